import { test, expect } from "@playwright/test";
import { fromTemplate } from "./helpers";

test("the Tests tab runs the flow's scenarios, keeps a run as one, and names what an edit broke", async ({ page }) => {
  await fromTemplate(page, "E-commerce with two failures, orchestrated", `Tests ${Date.now()}`);
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("10");
  await page.getByRole("tab", { name: "Tests" }).click();
  const headline = page.locator(".tests-headline");
  await expect(headline).toHaveText("3 scenarios; run them to see which pass.");
  await page.getByRole("button", { name: "Run tests" }).click();
  await expect(headline).toHaveText("All 3 scenarios pass.");
  const scenarios = page.locator(".tests-list > li");
  await expect(scenarios).toHaveCount(3);
  await expect(scenarios.nth(2).locator(".scenario-line")).toContainText("✓Out of stockexpects compensatedended compensated after");

  // A scenario plays as a real run, and an ended run is kept as a scenario of its own.
  await page.getByRole("button", { name: "Run “Out of stock” as a run" }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run compensated");
  await page.getByRole("tab", { name: "Tests" }).click();
  await page.getByRole("button", { name: "Keep this run as a scenario" }).click();
  await expect(scenarios).toHaveCount(4);
  await expect(scenarios.nth(3)).toContainText("Compensated 1");
  await expect(headline).toHaveText("4 scenarios; run them to see which pass.");
  await page.getByRole("button", { name: "Run tests" }).click();
  await expect(headline).toHaveText("All 4 scenarios pass.");

  // Delete the Email step: every scenario that names it fails, saying so.
  await page.getByRole("button", { name: "Email", exact: true }).click();
  await page.keyboard.press("Delete");
  await expect(page.locator("[data-node-id]")).toHaveCount(5);
  await expect(headline).toHaveText("4 scenarios; run them to see which pass.");
  await page.getByRole("button", { name: "Run tests" }).click();
  await expect(headline).toHaveText("3 of 4 scenarios fail.");
  await expect(scenarios.nth(0).locator(".differences")).toHaveText("the flow has no step email any more, which this test names");
  await expect(scenarios.nth(1).locator(".verdict")).toHaveText("✓");
  await expect(scenarios.nth(0).locator(".verdict")).toHaveText("✗");

  // Undo brings the step back, and the scenarios pass again.
  await page.keyboard.press("Control+z");
  await expect(page.locator("[data-node-id]")).toHaveCount(6);
  await page.getByRole("button", { name: "Run tests" }).click();
  await expect(headline).toHaveText("All 4 scenarios pass.");
  // A scenario goes with its ×.
  await page.getByRole("button", { name: "Remove “Compensated 1”" }).click();
  await expect(scenarios).toHaveCount(3);
});
