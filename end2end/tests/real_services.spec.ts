import { test, expect } from "@playwright/test";
import { fromMenu, fromTemplate } from "./helpers";
import { PAYMENT_PORT } from "../playwright.config";

// A step bound to a real service: the demo Payment service runs as its own process beside
// the server (playwright.config.ts). What the inspector refuses as it is typed, what the
// server refuses when it saves, and a run whose Payment is a real call.
test("bind Payment to the real demo service: refusals said where they belong, then a run that calls it", async ({ page }) => {
  await fromTemplate(page, "E-commerce with two failures, orchestrated", `Real ${Date.now()}`);
  await page.getByRole("button", { name: "Payment", exact: true }).click();
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  const url = inspector.getByRole("textbox", { name: "Real service (URL)" });
  await expect(url).toHaveAttribute("placeholder", "simulated; e.g. http://127.0.0.1:4102/");

  // Only http, said on the field as it is typed.
  await url.fill(`https://127.0.0.1:${PAYMENT_PORT}/`);
  await expect(url).toHaveAttribute("aria-invalid", "true");
  await expect(inspector.getByRole("alert")).toHaveText(`"https://127.0.0.1:${PAYMENT_PORT}/": only http:// URLs are called (got https://)`);

  // A host this server may not call: refused when saved, naming the step and the host.
  await url.fill("http://10.1.2.3:8080/");
  await expect(url).toHaveAttribute("aria-invalid", "false");
  const refusal = page.locator("footer").getByRole("alert");
  await expect(refusal).toContainText(
    "nodes[1].call.http.url: step Payment (payment) calls 10.1.2.3:8080, which this server may not call: only loopback; start it with --allow-service 10.1.2.3:8080 to allow it",
  );

  // The demo service on loopback: saved, and a run calls it.
  await url.fill(`http://127.0.0.1:${PAYMENT_PORT}/`);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 20_000 });
  await page.getByRole("tab", { name: "Log" }).click();
  const log = page.getByRole("list", { name: "Run log" });
  await expect(log).toContainText(/Payment called its service: 200 in \d+ ms/);
  // What the service answered is the run's data: its payment id, not a simulated value.
  await expect(log).toContainText(/Payment succeeded \(attempt 1\) and wrote paid = true, payment_id = "pay-[0-9a-f]{8}"/);
});

test("the e-commerce template on real services: a slow Payment's real latency on the timeline, then a decline told in the log", async ({ page }) => {
  await fromTemplate(page, "E-commerce on real services, orchestrated", `Real template ${Date.now()}`);
  await page.getByRole("textbox", { name: "Run input" }).fill('{"slow": "payment"}');
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 20_000 });

  // The Payment service took 1.5 s more, for real: its bar on the timeline says so, and so
  // does the log, in the same milliseconds.
  await page.getByRole("tab", { name: "Timeline" }).click();
  const timeline = page.getByRole("img", { name: "Run timeline" });
  const took = async (lane: string) =>
    Number((await timeline.locator(`.bar-succeeded[data-lane="${lane}"] title`).textContent())!.match(/\((\d+) ms\)$/)![1]);
  const bar = await took("payment");
  expect(bar).toBeGreaterThanOrEqual(1500);
  expect(await took("order")).toBeLessThan(1500);
  await page.getByRole("tab", { name: "Log" }).click();
  const log = page.getByRole("list", { name: "Run log" });
  const called = Number((await log.getByText(/Payment called its service: 200 in \d+ ms/).textContent())!.match(/in (\d+) ms/)![1]);
  expect(called).toBeGreaterThanOrEqual(1500);
  expect(Math.abs(called - bar)).toBeLessThan(200);

  // An expired card: the real Payment service declines it once, the failure route follows.
  await page.getByRole("textbox", { name: "Run input" }).fill('{"card": "expired"}');
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 20_000 });
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(log).toContainText(/Payment called its service: 422 in \d+ ms — card expired/);
  await expect(log.getByText(/Payment called its service/)).toHaveCount(1);
  await expect(page.locator('[data-node-id="notify-rejected"]')).toHaveAttribute("data-state", "succeeded");

  // Out of stock: Fulfillment declines, and the saga's undo of Payment and Order Placement
  // are calls to their real services, told in the log.
  await page.getByRole("textbox", { name: "Run input" }).fill('{"stock": "none"}');
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run compensated", { timeout: 20_000 });
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(log).toContainText(/Payment asked its service to undo it \(refund\): 200 in \d+ ms/);
  await expect(log).toContainText(/Order Placement asked its service to undo it \(cancel\): 200 in \d+ ms/);
  await expect(page.locator('[data-node-id="payment"]')).toHaveAttribute("data-state", "compensated");
});

test("the lab compares the real-services template with real runs: measured latencies, the calls counted", async ({ page }) => {
  await fromTemplate(page, "E-commerce on real services, choreographed", `Real lab ${Date.now()}`);
  await fromMenu(page, "Lab");
  // The page says, before anything runs, that Compare will call the real services.
  await expect(page.locator(".real-runs")).toHaveText(
    "Order Placement, Payment, Fulfillment, Email call real services: Compare runs each style's runs for real against them (at most 200 runs per style), so the latencies are measured; the fail-at-every-step table and Verify still simulate them.",
  );
  // Over the real-runs cap: refused, naming the services.
  await page.getByRole("textbox", { name: "Runs per style" }).fill("300");
  await page.getByRole("button", { name: "Compare" }).click();
  await expect(page.getByRole("alert")).toContainText(
    "runs must be from 1 to 200 per style when steps call real services (Order Placement, Payment, Fulfillment, Email): each run calls them; got 300",
  );

  await page.getByRole("textbox", { name: "Input" }).fill('{"slow": "payment"}');
  await page.getByRole("textbox", { name: "Runs per style" }).fill("2");
  await page.getByRole("button", { name: "Compare" }).click();
  await expect(page.getByText("Batch done")).toBeVisible({ timeout: 60_000 });
  const reading = page.getByRole("list", { name: "Reading" });
  await expect(reading).toContainText(
    "these are real runs: each style's 2 runs called the 4 real services bound to Order Placement, Payment, Fulfillment, Email, so their latencies are measured, not simulated",
  );
  // Payment took 1.5 s in every run, for real: every style's median says so.
  const table = page.getByRole("table", { name: "Comparison" });
  const cells = (label: string) => table.getByRole("row", { name: new RegExp(`^${label}`) }).getByRole("cell");
  for (const p50 of await cells("Latency p50 \\(ms, measured\\)").allTextContents()) {
    expect(Number(p50)).toBeGreaterThanOrEqual(1500);
  }
  await expect(cells("Calls to real services")).toHaveText(["8", "8", "8"]);
  await expect(page.getByRole("group", { name: "At a glance" }).getByRole("img", { name: /^Latency \(ms, measured on real services\)/ })).toBeVisible();
});
