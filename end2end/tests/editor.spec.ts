import { test, expect } from "@playwright/test";
import { center, drag, openEditor, fromTemplate } from "./helpers";

test("draw two steps, connect them by an event, save, run, and find it again after a reload", async ({ page }) => {
  await openEditor(page);
  await page.getByRole("button", { name: "New workflow" }).click();
  await page.getByRole("textbox", { name: "Workflow name" }).fill("Two steps by event");

  const addStep = page.getByRole("button", { name: "Add step" });
  await addStep.click();
  await addStep.click();
  const first = page.getByRole("button", { name: "Step 1", exact: true });
  const second = page.getByRole("button", { name: "Step 2", exact: true });
  await expect(first).toBeVisible();
  await expect(second).toBeVisible();

  // Move the second step down with the mouse.
  const before = (await second.boundingBox())!;
  const grip = await center(second);
  await drag(page, grip, { x: grip.x + 40, y: grip.y + 160 });
  const after = (await second.boundingBox())!;
  const placed = await page.locator('[data-node-id="step-2"]').getAttribute("transform");
  expect(after.y - before.y).toBeGreaterThan(140);
  expect(after.x - before.x).toBeGreaterThan(30);

  // Connect: from the first step's output handle onto the second step.
  await drag(page, await center(page.getByRole("button", { name: "Connect from Step 1" })), await center(second));
  const command = page.getByRole("button", { name: "command edge from Step 1 to Step 2" });
  await expect(command).toBeVisible();
  await expect(page.locator("[data-edge-id]")).toHaveCount(1);

  // The new edge is selected: make it an event. It is drawn dashed with its event's name.
  await page.getByRole("button", { name: "Event", exact: true }).click();
  const event = page.getByRole("button", { name: "event edge from Step 1 to Step 2" });
  await expect(event).toBeVisible();
  await expect(page.getByRole("button", { name: "Event", exact: true })).toHaveAttribute("aria-pressed", "true");
  await expect(event.locator(".edge-label")).toHaveText("Step1Completed");

  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await expect(page).toHaveURL(/\?workflow=[0-9a-f]{32}/);
  await expect(page.getByRole("navigation", { name: "Workflows" }).getByRole("button", { name: /^Two steps by event \d+ steps/ })).toBeVisible();

  await page.getByRole("button", { name: "Run", exact: true }).click();
  const step1 = page.locator('[data-node-id="step-1"]');
  const step2 = page.locator('[data-node-id="step-2"]');
  await expect(step1).toHaveAttribute("data-state", "succeeded");
  await expect(step2).toHaveAttribute("data-state", "succeeded");
  await expect(step2.locator(".node-state")).toHaveText("✓ succeeded");
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  await expect(page.getByRole("alert")).toHaveCount(0); // the stream ended normally, no error shown

  // A reload opens the same workflow from the server, as it was saved.
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Two steps by event");
  await expect(page.locator("[data-node-id]")).toHaveCount(2);
  await expect(page.getByRole("button", { name: "event edge from Step 1 to Step 2" })).toBeVisible();
  // Where the step was dropped is where it is (the view itself opens fitted).
  await expect(page.locator('[data-node-id="step-2"]')).toHaveAttribute("transform", placed!);
});

test("the shipped example runs its three commanded steps in order", async ({ page }) => {
  await fromTemplate(page, "Order processing, orchestrated", `Shipped ${Date.now()}`);
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
  await expect(page.locator(".edge-group.command")).toHaveCount(2);

  // Record the order in which steps reach "succeeded", as the live stream reports them.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as any).__succeeded = seen;
    new MutationObserver(() => {
      document.querySelectorAll('[data-state="succeeded"]').forEach((el) => {
        const id = el.getAttribute("data-node-id")!;
        if (!seen.includes(id)) seen.push(id);
      });
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["data-state"] });
  });
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  const order = await page.evaluate(() => (window as any).__succeeded);
  expect(order).toEqual(["validate", "charge", "confirm"]);
});
