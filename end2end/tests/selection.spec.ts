import { test, expect } from "@playwright/test";
import { center, connect, freshWorkflow } from "./helpers";

test("marquee and shift-click select several steps, which move, duplicate and delete together", async ({ page }) => {
  await freshWorkflow(page, 3);
  const step = (n: number) => page.getByRole("button", { name: `Step ${n}`, exact: true });
  const group = (n: number) => page.locator(`[data-node-id="step-${n}"]`);

  // Shift-drag a rectangle around steps 1 and 2 (step 3 stays out).
  const one = (await step(1).boundingBox())!;
  const two = (await step(2).boundingBox())!;
  await page.keyboard.down("Shift");
  await page.mouse.move(one.x - 15, one.y - 15);
  await page.mouse.down();
  await page.mouse.move(two.x + two.width + 10, two.y + two.height + 15, { steps: 8 });
  await page.mouse.up();
  await page.keyboard.up("Shift");
  await expect(group(1)).toHaveClass(/selected/);
  await expect(group(2)).toHaveClass(/selected/);
  await expect(group(3)).not.toHaveClass(/selected/);

  // Shift-click adds step 3; dragging one of them moves all three by the same amount.
  await step(3).click({ modifiers: ["Shift"] });
  await expect(group(3)).toHaveClass(/selected/);
  const before = await Promise.all([1, 2, 3].map(async (n) => (await step(n).boundingBox())!));
  const grip = await center(step(2));
  await page.mouse.move(grip.x, grip.y);
  await page.mouse.down();
  await page.mouse.move(grip.x + 20, grip.y + 140, { steps: 10 });
  await page.mouse.up();
  for (const [i, n] of [1, 2, 3].entries()) {
    const after = (await step(n).boundingBox())!;
    expect(Math.round(after.x - before[i].x)).toBe(20);
    expect(Math.round(after.y - before[i].y)).toBe(140);
  }
  // One undo puts all three back.
  await page.keyboard.press("Control+z");
  await expect.poll(async () => Math.round((await step(3).boundingBox())!.y - before[2].y)).toBe(0);

  // Ctrl+D duplicates the selection; Delete removes the selected copies together.
  await page.keyboard.press("Control+d");
  await expect(page.locator("[data-node-id]")).toHaveCount(6);
  await page.keyboard.press("Delete");
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
});

test("copy steps in one tab and paste them into another, as JSON", async ({ page, context }) => {
  await freshWorkflow(page, 2);
  await connect(page, "Step 1", "Step 2");
  await page.keyboard.press("e");
  await page.getByRole("button", { name: "Step 1", exact: true }).click();
  await page.getByRole("button", { name: "Step 2", exact: true }).click({ modifiers: ["Shift"] });
  await page.keyboard.press("ControlOrMeta+c");

  const other = await context.newPage();
  await freshWorkflow(other, 0);
  await other.keyboard.press("ControlOrMeta+v");
  await expect(other.locator("[data-node-id]")).toHaveCount(2);
  await expect(other.locator(".edge-group.event")).toHaveCount(1);
  await expect(other.getByRole("button", { name: "Step 1", exact: true })).toBeVisible();
});
