import { test, expect } from "@playwright/test";
import { connect, openEditor, fromMenu } from "./helpers";

test("export a drawn flow as Mermaid, text and JSON", async ({ page }) => {
  await openEditor(page);
  await page.getByRole("button", { name: "New workflow" }).click();
  await page.getByRole("button", { name: "Add step" }).click();
  await page.getByRole("button", { name: "Add step" }).click();
  await connect(page, "Step 1", "Step 2");
  await page.keyboard.press("e");

  await fromMenu(page, "Export…");
  const dialog = page.getByRole("dialog", { name: "Export" });
  const text = dialog.getByRole("textbox", { name: "Exported text" });
  await expect(text).toHaveValue(
    [
      "flowchart LR",
      // Mermaid cannot take "step-1" as an id: the real id is kept beside it.
      "    %% step_1 = step-1",
      '    step_1["Step 1<br/><small>Service1.run</small>"]',
      "    %% step_2 = step-2",
      '    step_2["Step 2<br/><small>Service2.run</small>"]',
      "    step_1 -. Step1Completed .-> step_2",
      "",
    ].join("\n"),
  );
  await expect(dialog.getByRole("link", { name: "Download", exact: true })).toHaveAttribute("download", "Untitledworkflow.mmd");
  await expect(dialog.getByRole("link", { name: "Download canvas (SVG)" })).toHaveAttribute("href", /^data:image\/svg\+xml/);
  await dialog.getByRole("combobox", { name: "Export format" }).selectOption("text");
  await expect(text).toHaveValue("name: Untitled workflow\nstep-1 ~> step-2 : Step1Completed\n");
  await dialog.getByRole("combobox", { name: "Export format" }).selectOption("json");
  expect(JSON.parse(await text.inputValue()).edges[0].kind).toBe("event");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toHaveCount(0);
});

test("import the text form and the article's JSON; a refusal names the line", async ({ page }) => {
  await openEditor(page);
  const open = () => fromMenu(page, "Import…");
  const dialog = page.getByRole("dialog", { name: "Import" });
  const source = dialog.getByRole("textbox", { name: "Text to import" });

  await open();
  await source.fill("name: Imported shop\norder -> payment\npayment ~> email : PaymentCharged\n");
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Imported shop");
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
  await expect(page.getByRole("button", { name: "event edge from payment to email" })).toBeVisible();
  await expect(page.locator(".edge-label").filter({ hasText: "PaymentCharged" })).toBeVisible();

  await open();
  await source.fill('{"workflow": {"name": "From the article", "steps": [{"name": "ValidateOrder", "service": "OrderService", "action": "validate"}, {"name": "ChargePayment", "service": "PaymentService", "action": "charge"}]}}');
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("From the article");
  // A straight edge has no height, so it counts as attached rather than "visible".
  await expect(page.getByRole("button", { name: "command edge from ValidateOrder to ChargePayment" })).toBeAttached();

  await open();
  await source.fill("a -> b\nthis is not an edge\n");
  await dialog.getByRole("combobox", { name: "Import format" }).selectOption("text");
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(dialog.getByRole("alert")).toContainText("line 2: expected `a -> b`");
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("From the article");
});
