// Every canvas action has a keyboard path, focus is always visible, the pages pass axe's
// checks (no serious or critical violations) in both themes, and the theme is remembered.
import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { freshWorkflow, fromMenu, openEditor } from "./helpers";

async function focusedLabel(page: Page) {
  return page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.tagName);
}

test("a keyboard user skips to the canvas, moves between steps, moves one, connects two and changes the edge", async ({ page }) => {
  await freshWorkflow(page, 2);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await page.reload();
  await expect(page.locator("[data-node-id]")).toHaveCount(2);
  // The skip link is the first stop and leads to the canvas.
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to the canvas" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  await expect.poll(() => focusedLabel(page)).toBe("Step 1");
  await expect(page.locator(":focus-visible")).toHaveCount(1);

  // Arrows move the focus to the nearest step that way; Enter selects.
  await page.keyboard.press("ArrowRight");
  await expect.poll(() => focusedLabel(page)).toBe("Step 2");
  const step2 = page.locator('[data-node-id="step-2"]');
  const placed = await step2.getAttribute("transform");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "Step 2", exact: true })).toHaveAttribute("aria-pressed", "true");

  // Arrows move the selected step: 10 units, 100 with Shift.
  const at = (t: string | null) => t!.match(/translate\(([-\d.]+) ([-\d.]+)\)/)!.slice(1).map(Number);
  const [x0, y0] = at(placed);
  await page.keyboard.press("Shift+ArrowDown");
  await page.keyboard.press("ArrowLeft");
  await expect(step2).toHaveAttribute("transform", `translate(${x0 - 10} ${y0 + 100})`);
  // One undo per nudge.
  await page.keyboard.press("Control+z");
  await expect(step2).toHaveAttribute("transform", `translate(${x0} ${y0 + 100})`);

  // Escape clears the selection; arrows move the focus again; L connects, Enter confirms.
  await page.keyboard.press("Escape");
  await page.keyboard.press("ArrowLeft");
  await expect.poll(() => focusedLabel(page)).toBe("Step 1");
  await page.keyboard.press("l");
  await expect(step2).toHaveClass(/connect-target/);
  await page.keyboard.press("Enter");
  const edge = page.getByRole("button", { name: "command edge from Step 1 to Step 2" });
  await expect(edge).toBeVisible();
  await expect(edge).toBeFocused();
  await expect(edge).toHaveAttribute("aria-pressed", "true");
  // E turns the selected edge into an event, C back into a command.
  await page.keyboard.press("e");
  await expect(page.getByRole("button", { name: "event edge from Step 1 to Step 2" })).toBeVisible();
  await page.keyboard.press("c");
  await expect(edge).toBeVisible();
  // Delete removes it.
  await page.keyboard.press("Delete");
  await expect(page.locator("[data-edge-id]")).toHaveCount(0);
});

test("a keyboard user draws a decision: a default branch, a branch with a condition typed after I", async ({ page }) => {
  await freshWorkflow(page, 3);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await page.reload();
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  await expect.poll(() => focusedLabel(page)).toBe("Step 1");
  // Step 1 → Step 3: the default branch (L, the arrow picks the farther target, Enter).
  await page.keyboard.press("l");
  await page.keyboard.press("ArrowRight");
  await expect(page.locator('[data-node-id="step-3"]')).toHaveClass(/connect-target/);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "command edge from Step 1 to Step 3" })).toBeFocused();
  // Step 1 → Step 2, then I: the condition field, typed.
  await page.keyboard.press("Escape");
  await page.keyboard.press("ArrowLeft");
  await expect.poll(() => focusedLabel(page)).toBe("Step 1");
  await page.keyboard.press("l");
  await expect(page.locator('[data-node-id="step-2"]')).toHaveClass(/connect-target/);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "command edge from Step 1 to Step 2" })).toBeFocused();
  await page.keyboard.press("i");
  const condition = page.getByRole("complementary", { name: "Inspector" }).getByRole("textbox", { name: "Condition (CEL, on the run data)" });
  await expect(condition).toBeFocused();
  await page.keyboard.type("amount > 100");
  await expect(page.locator("g.edge-group .edge-label").filter({ hasText: "[amount > 100]" })).toHaveCount(1);
  // The step is drawn as a decision.
  await expect(page.locator('[data-node-id="step-1"]')).toHaveClass(/kind-decision/);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
});

test("the run panel's tabs follow the arrow keys and the shortcuts are listed", async ({ page }) => {
  await openEditor(page);
  await page.getByRole("tab", { name: "Summary" }).focus();
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("tab", { name: "Timeline" })).toBeFocused();
  await expect(page.getByRole("tab", { name: "Timeline" })).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("End");
  await expect(page.getByRole("tab", { name: "Tests" })).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("ArrowLeft");
  await expect(page.getByRole("tab", { name: "Runs" })).toHaveAttribute("aria-selected", "true");
  await fromMenu(page, "Keyboard shortcuts");
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(help).toContainText("connect from the focused step");
  await expect(help.locator("kbd").first()).toBeVisible();
});

async function noSeriousViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad, `${what}: axe found`).toEqual([]);
}

for (const theme of ["light", "dark"] as const) {
  test(`axe finds nothing serious in the editor, a live run and the lab (${theme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: theme });
    await openEditor(page);
    await page.getByRole("button", { name: "Use template E-commerce with two failures, orchestrated" }).click();
    await expect(page.locator("[data-node-id]").first()).toBeVisible();
    await noSeriousViolations(page, "editor");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await expect(page.getByRole("status", { name: "Run state" })).toHaveText(/Run /);
    await page.getByRole("tab", { name: "Log" }).click();
    await noSeriousViolations(page, "live run");
    await page.getByRole("tab", { name: "Timeline" }).click();
    await noSeriousViolations(page, "timeline");
    await fromMenu(page, "Lab");
    await expect(page.getByRole("heading", { name: /Trade-off lab/ })).toBeVisible();
    await noSeriousViolations(page, "lab");
  });
}

test("the theme follows the system, a picked one is remembered, and pictures stay light unless asked", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "light" });
  await openEditor(page);
  const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const light = await background();
  await page.emulateMedia({ colorScheme: "dark" });
  await expect.poll(background).not.toBe(light);
  const dark = await background();
  // Picked light on a dark system: light, and still light after a reload.
  const toggle = page.getByRole("navigation", { name: "Workflows" }).getByRole("button", { name: /^Theme:/ });
  await toggle.click(); // system → dark
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await toggle.click(); // dark → light
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  expect(await background()).toBe(light);
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await expect.poll(background).toBe(light);
  await toggle.click(); // light → system (dark here)
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /./);
  expect(await background()).toBe(dark);

  // On a dark page the canvas's SVG export is light unless dark pictures are asked for.
  await fromMenu(page, "Export…");
  const dialog = page.getByRole("dialog", { name: "Export" });
  const svg = dialog.getByRole("link", { name: "Download canvas (SVG)" });
  const markup = async () => decodeURIComponent((await svg.getAttribute("href"))!);
  expect(await markup()).toContain('data-theme="light"');
  await dialog.getByRole("checkbox", { name: "Dark pictures" }).check();
  await expect.poll(markup).toContain('data-theme="dark"');
});
