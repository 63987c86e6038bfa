// The editor fits the window at the common screen sizes: every inspector field, the run
// panel's tabs, Save and Run, and "Apply to the live run" can be reached (scrolled into
// view and visible), steps open fitted to the canvas, and nothing is drawn over them.
import { test, expect, type Page, type Locator } from "@playwright/test";
import { expectStepsInside, openEditor } from "./helpers";

const SIZES = [
  { width: 1280, height: 720 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
];

async function reachable(page: Page, target: Locator) {
  await target.scrollIntoViewIfNeeded();
  await expect(target).toBeVisible();
  const box = (await target.boundingBox())!;
  const size = page.viewportSize()!;
  expect(box.y, `${target} starts inside the window`).toBeGreaterThanOrEqual(0);
  expect(box.y + box.height, `${target} ends inside the window`).toBeLessThanOrEqual(size.height + 0.5);
  expect(box.x + box.width).toBeLessThanOrEqual(size.width + 0.5);
}

/** Whether two boxes overlap. */
function overlap(a: { x: number; y: number; width: number; height: number }, b: typeof a) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

for (const size of SIZES) {
  test(`at ${size.width}×${size.height} everything is reachable and nothing covers the steps`, async ({ page }, info) => {
    await page.setViewportSize(size);
    await openEditor(page);
    await page.getByRole("button", { name: "Use template Order processing, orchestrated" }).click();
    await expect(page.locator("[data-node-id]")).toHaveCount(3);
    const frame = (await page.getByRole("application", { name: "Workflow canvas" }).boundingBox())!;

    // Opened fitted: every step inside the canvas.
    await expectStepsInside(page, frame);

    // Save and Run share the toolbar's one row, inside the window.
    const toolbar = (await page.getByRole("toolbar", { name: "Editor tools" }).boundingBox())!;
    for (const name of ["Save", "Run", "Workflow name"]) {
      const control = name === "Workflow name" ? page.getByRole("textbox", { name }) : page.getByRole("button", { name, exact: true });
      const box = (await control.boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(toolbar.y);
      expect(box.y + box.height).toBeLessThanOrEqual(toolbar.y + toolbar.height);
      expect(box.x + box.width).toBeLessThanOrEqual(size.width);
    }
    expect(toolbar.height, "the toolbar does not wrap").toBeLessThan(60);

    // A selected step: every field of the inspector can be reached.
    await page.getByRole("button", { name: "ChargePayment", exact: true }).click();
    const inspector = page.getByRole("complementary", { name: "Inspector" });
    for (const field of ["Step label", "Step service", "Step action", "Latency (ms)", "Timeout (ms)", "Retry: multiplier", "Compensation", "Join", "Idempotent"]) {
      await reachable(page, inspector.getByLabel(field, { exact: true }));
    }
    // …and so can the run panel, Causality included (it needs the selected step).
    for (const tab of ["Summary", "Timeline", "Log", "Causality", "Replay", "Runs"]) {
      await reachable(page, page.getByRole("tab", { name: tab }));
    }
    await page.getByRole("tab", { name: "Causality" }).click();
    await reachable(page, page.getByRole("tabpanel"));

    // Nothing selected: the run form and its faults, down to "Apply to the live run".
    await page.keyboard.press("Escape");
    // (The run panel opened with its tab: the canvas is shorter now.)
    const shorter = (await page.getByRole("application", { name: "Workflow canvas" }).boundingBox())!;
    await page.mouse.click(shorter.x + shorter.width - 20, shorter.y + shorter.height - 20);
    await page.getByText("Faults (break things)").click();
    await reachable(page, page.getByRole("button", { name: "Apply to the live run" }));
    await reachable(page, page.getByRole("textbox", { name: "Run input" }));

    // The legend and the orchestrator's load sit above the drawing, never over a step.
    await page.getByRole("button", { name: "Run", exact: true }).click();
    const load = page.getByRole("status", { name: "Orchestrator load" });
    await expect(load).toBeVisible();
    await page.getByText("Legend", { exact: true }).click();
    for (const cover of [load, page.getByLabel("Legend", { exact: true })]) {
      const c = (await cover.boundingBox())!;
      expect(c.y + c.height <= frame.y + 1 || !(await Promise.all((await page.locator("[data-node-id] .node-body").all()).map((n) => n.boundingBox()))).some((b) => overlap(b!, c))).toBe(true);
    }
    await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");

    // The hub fits in too.
    await page.getByRole("button", { name: "Show the orchestrator" }).click();
    const hub = (await page.locator(".orchestrator-hub circle").boundingBox())!;
    expect(hub.y).toBeGreaterThanOrEqual(frame.y);
    expect(hub.y + hub.height).toBeLessThanOrEqual(frame.y + frame.height);

    await info.attach(`editor-${size.width}x${size.height}`, {
      body: await page.screenshot(),
      contentType: "image/png",
    });
  });
}

test("a reload mid-run comes back to the same run, still live", async ({ page }) => {
  await openEditor(page);
  await page.getByRole("button", { name: "Use template Order processing, orchestrated" }).click();
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("0.25");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page).toHaveURL(/[?&]run=[0-9a-f]+/);
  const url = page.url();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run running");
  await page.reload();
  await expect(page).toHaveURL(url);
  // Reattached: the same run goes on to its end, with its log.
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText(/Run (running|completed)/);
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 30_000 });
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(page.getByRole("list", { name: "Run log" }).locator("li").first()).toContainText("run completed");
});

test("a run named in the address that no longer exists says so", async ({ page }) => {
  await page.goto("/?run=0123456789abcdef0123456789abcdef");
  await expect(page.getByRole("alert")).toContainText("run 0123456789abcdef0123456789abcdef");
  await expect(page.getByRole("textbox", { name: "Workflow name" })).not.toHaveValue("");
});
