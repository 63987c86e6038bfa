import { test, expect } from "@playwright/test";
import { openEditor, fromMenu, fromTemplate } from "./helpers";

// Leaving a page must end what it started: its live sockets, its polling and its keyboard
// shortcuts. Before, the editor's runs feed and key handlers outlived it and touched its
// disposed state from the lab page, which killed the app (a wasm panic).
test("from the editor with a run live to the lab and back: keys, clicks and a load test there break nothing", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  const feeds: { closed: boolean }[] = [];
  page.on("websocket", (ws) => {
    if (!ws.url().endsWith("/api/runs/feed")) return;
    const feed = { closed: false };
    feeds.push(feed);
    ws.on("close", () => (feed.closed = true));
  });

  await fromTemplate(page, "Order processing, orchestrated", `Navigation ${Date.now()}`);
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("0.25");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText(/running/i);
  await expect.poll(() => feeds.length).toBe(1);

  await fromMenu(page, "Lab");
  await expect(page.getByRole("heading", { name: /Trade-off lab/ })).toBeVisible();
  // The editor's feed is closed with it.
  await expect.poll(() => feeds[0].closed).toBe(true);
  // Keys the editor answered (delete, fit, zoom, C/E) and a click: nothing of the editor fires.
  await page.getByRole("heading", { name: /Trade-off lab/ }).click();
  for (const key of ["Delete", "f", "+", "c", "e", "Control+z"]) await page.keyboard.press(key);
  // Runs start and end everywhere while the lab runs a load test.
  const load = page.getByRole("region", { name: "Load", exact: true });
  await load.getByRole("textbox", { name: "Rate (runs/s)" }).fill("40");
  await load.getByRole("textbox", { name: "Seconds" }).fill("1");
  await load.getByRole("button", { name: "Start load" }).click();
  await expect(load.getByText("Load test done")).toBeVisible({ timeout: 30_000 });

  // A compare batch is under way when the user goes back: its polling ends with the page.
  await page.getByRole("textbox", { name: "Runs per style" }).fill("5000");
  await page.getByRole("button", { name: "Compare" }).click();
  await expect(page.getByRole("button", { name: "Cancel batch" })).toBeVisible();

  // Back in the editor: it works, with one feed again.
  await page.getByRole("link", { name: "← Editor" }).click();
  await expect(page.getByRole("navigation", { name: "Workflows" })).toBeVisible();
  await page.getByRole("button", { name: "Add step" }).click();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await expect.poll(() => feeds.filter((f) => !f.closed).length).toBe(1);
  await page.waitForTimeout(1_000); // what the lab left running would have touched it by now
  expect(errors).toEqual([]);
});

// Every change of workflow or run is a history entry: Back and Forward move between two
// workflows and two runs, and the page shows what the address names each time.
test("Back and Forward move between two workflows and two runs, never out of the app", async ({ page }) => {
  await openEditor(page);
  await page.evaluate(() => localStorage.setItem("hybridflow.intro-dismissed", "1"));
  const list = page.getByRole("navigation", { name: "Workflows" });
  const name = page.getByRole("textbox", { name: "Workflow name" });
  const runState = page.getByRole("status", { name: "Run state" });
  await list.getByRole("button", { name: "Use template Order processing, orchestrated" }).click();
  await expect(page).toHaveURL(/\?workflow=template-order-orchestrated$/);
  await list.getByRole("button", { name: "Use template Financial transaction, strictly ordered" }).click();
  await expect(page).toHaveURL(/\?workflow=template-financial-transaction$/);
  await expect(name).toHaveValue("Financial transaction, strictly ordered");
  const runOnce = async () => {
    const before = page.url();
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await expect(page).not.toHaveURL(before);
    await expect(page).toHaveURL(/\?workflow=template-financial-transaction&run=[0-9a-f]+$/);
    await expect(runState).toHaveText("Run completed");
    return new URL(page.url()).searchParams.get("run")!;
  };
  const first = await runOnce();
  const second = await runOnce();
  expect(second).not.toBe(first);

  // Back: the first run, then the workflow with no run, then the other workflow.
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`run=${first}$`));
  await expect(runState).toHaveText("Run completed");
  await expect(page.locator("[data-node-id]").first()).toHaveAttribute("data-state", "succeeded");
  await page.goBack();
  await expect(page).toHaveURL(/\?workflow=template-financial-transaction$/);
  await expect(page.locator('[data-node-id][data-state="succeeded"]')).toHaveCount(0);
  await page.goBack();
  await expect(page).toHaveURL(/\?workflow=template-order-orchestrated$/);
  await expect(name).toHaveValue("Order processing, orchestrated");
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
  await expect(page.getByRole("button", { name: "ValidateOrder", exact: true })).toBeVisible();

  // Forward again, to the second run.
  await page.goForward();
  await expect(name).toHaveValue("Financial transaction, strictly ordered");
  await page.goForward();
  await expect(page).toHaveURL(new RegExp(`run=${first}$`));
  await page.goForward();
  await expect(page).toHaveURL(new RegExp(`run=${second}$`));
  await expect(runState).toHaveText("Run completed");
  // Nothing pushed on the way: Back still goes to the first run.
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`run=${first}$`));
});
