import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import * as fs from "node:fs";
import * as path from "node:path";
import { AS_A_BROWSER, connect, freshWorkflow, openEditor, fromMenu } from "./helpers";

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
  // Each step's position rides in a `%% id details {…}` comment: the rest is the diagram.
  const diagram = async () =>
    (await text.inputValue())
      .split("\n")
      .filter((line) => !line.includes(" details {"))
      .join("\n");
  await expect.poll(diagram).toBe(
    [
      "---",
      'title: "Untitled workflow"',
      "---",
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

const CAMUNDA = path.join(__dirname, "../../app/tests/fixtures/order-fulfilment.bpmn");

test("export BPMN for Camunda Modeler and AsyncAPI for the event contracts", async ({ page }) => {
  await freshWorkflow(page, 2);
  await connect(page, "Step 1", "Step 2");
  await page.keyboard.press("e");
  await fromMenu(page, "Export…");
  const dialog = page.getByRole("dialog", { name: "Export" });
  const text = dialog.getByRole("textbox", { name: "Exported text" });
  const format = dialog.getByRole("combobox", { name: "Export format" });
  await format.selectOption({ label: "BPMN 2.0 XML (Camunda Modeler, bpmn.io)" });
  await expect(text).toHaveValue(/<bpmn:definitions /);
  const xml = await text.inputValue();
  // Two tasks, the event as a message catch event between them, all laid out.
  expect(xml.match(/<bpmn:serviceTask /g)).toHaveLength(2);
  expect(xml).toContain('<bpmn:message id="Message_1" name="Step1Completed" />');
  expect(xml.match(/<bpmndi:BPMNShape /g)).toHaveLength(3);
  await expect(dialog.getByRole("link", { name: "Download", exact: true })).toHaveAttribute("download", "Untitledworkflow.bpmn");
  await expect(dialog.getByRole("link", { name: "Download", exact: true })).toHaveAttribute("href", /^data:application\/xml/);
  await format.selectOption({ label: "AsyncAPI 3.0 (its events)" });
  const doc = JSON.parse(await text.inputValue());
  expect(doc.asyncapi).toBe("3.0.0");
  expect(Object.keys(doc.channels)).toEqual(["Step1Completed"]);
  expect(Object.values(doc.operations).map((o: any) => `${o["x-hybridflow-service"]} ${o.action}`).sort()).toEqual([
    "Service1 send",
    "Service2 receive",
  ]);
});

test("import a Camunda Modeler file from disk; an element it cannot map is named", async ({ page }) => {
  await openEditor(page);
  await fromMenu(page, "Import…");
  const dialog = page.getByRole("dialog", { name: "Import" });
  const chooser = page.waitForEvent("filechooser");
  // The file input lies over its button: the click lands on it and opens the chooser.
  await dialog.getByLabel("Open a file…").click();
  await (await chooser).setFiles(CAMUNDA);
  await expect(dialog.getByRole("combobox", { name: "Import format" })).toHaveValue("bpmn");
  await expect(dialog.getByRole("textbox", { name: "Text to import" })).toHaveValue(/Camunda Modeler/);
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Order fulfilment");
  await expect(page.locator("[data-node-id]")).toHaveCount(7);
  await expect(page.getByRole("button", { name: "event edge from Request shipment to Deliver parcel" })).toBeAttached();
  await expect(page.locator(".edge-label").filter({ hasText: "ShipmentRequested" })).toBeVisible();

  // The same file with a complex gateway: refused, by element id and type, nothing opened.
  await fromMenu(page, "Import…");
  const source = dialog.getByRole("textbox", { name: "Text to import" });
  const xml = fs.readFileSync(CAMUNDA, "utf8")
    .replace('<bpmn:parallelGateway id="Gateway_Fork">', '<bpmn:complexGateway id="Gateway_Fork">')
    .replace("</bpmn:parallelGateway>", "</bpmn:complexGateway>");
  await source.fill(xml);
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(dialog.getByRole("alert")).toContainText('complexGateway "Gateway_Fork" chooses a path by a rule Hybridflow does not model');
  await expect(dialog.getByRole("alert")).toContainText("line ");
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Order fulfilment");
});

test("Mermaid typed in comes in with its Korean names; exported, it reads back the same", async ({ page }) => {
  await openEditor(page);
  await fromMenu(page, "Import…");
  const dialog = page.getByRole("dialog", { name: "Import" });
  const source = dialog.getByRole("textbox", { name: "Text to import" });
  await source.click();
  await page.keyboard.type("flowchart LR\n  order[주문 접수] --> pay[결제]\n  pay -.->|결제완료| ship[배송]\n");
  await dialog.getByRole("combobox", { name: "Import format" }).selectOption({ label: "Mermaid flowchart" });
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
  await expect(page.locator(".edge-label").filter({ hasText: "결제완료" })).toBeVisible();
  await fromMenu(page, "Export…");
  const exported = page.getByRole("dialog", { name: "Export" }).getByRole("textbox", { name: "Exported text" });
  await expect(exported).toHaveValue(/pay -\. 결제완료 \.-> ship/);
  await expect(exported).toHaveValue(/order\["주문 접수<br\/>/);
});

test("the API page lists every route, from the app's own description", async ({ page }) => {
  await openEditor(page);
  await page.getByRole("link", { name: "API", exact: true }).click();
  await expect(page).toHaveURL(/\/docs\/api$/);
  await expect(page.getByRole("heading", { name: "Hybridflow API" })).toBeVisible();
  const spec = await (await page.request.get("/api/openapi.json", AS_A_BROWSER)).json();
  let operations = 0;
  for (const item of Object.values(spec.paths) as any[]) operations += Object.keys(item).length;
  await expect(page.locator("article.operation")).toHaveCount(operations);
  await expect(page.locator("article.operation").filter({ hasText: "/api/workflows/import" })).toContainText("text/plain");
  const audit = await new AxeBuilder({ page }).analyze();
  expect(audit.violations.map((v) => `${v.id}: ${v.nodes.length}`)).toEqual([]);
  // A table of contents leads to each operation.
  await page.getByRole("navigation", { name: "Contents" }).getByRole("link", { name: /PUT \/api\/workflows\/\{id\}/i }).click();
  await expect(page).toHaveURL(/#op-put-api-workflows-id$/);
  await expect(page.locator("#op-put-api-workflows-id")).toContainText("412");
  await page.getByRole("link", { name: "workflow.json (JSON Schema)" }).click();
  await expect(page).toHaveURL(/\/api\/schema\/workflow\.json$/);
});

const PAYMENT_BPMN = path.join(__dirname, "../../app/tests/fixtures/payment-decision.bpmn");
const STATE_MACHINE = path.join(__dirname, "../../app/tests/fixtures/order-state-machine.asl.json");

/** Opens the import dialog and imports a file from disk. */
async function importFile(page: Page, file: string) {
  await fromMenu(page, "Import…");
  const dialog = page.getByRole("dialog", { name: "Import" });
  const chooser = page.waitForEvent("filechooser");
  await dialog.getByLabel("Open a file…").click();
  await (await chooser).setFiles(file);
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(dialog).toHaveCount(0);
}

/** Runs the open workflow with `input` at `speed`, nothing selected. */
async function runWith(page: Page, input: string, speed: string) {
  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  await canvas.click({ position: { x: (await canvas.boundingBox())!.width - 40, y: 30 } });
  await page.getByRole("textbox", { name: "Run input", exact: true }).fill(input);
  await page.getByRole("combobox", { name: "Run speed" }).selectOption(speed);
  await page.getByRole("button", { name: "Run", exact: true }).click();
}

test("a Camunda Modeler file with a decision, a timed wait and a call activity, from disk: both branches by input, the timeout when nothing comes", async ({ page }) => {
  await openEditor(page);
  // The process the call activity calls, stored under its name.
  await fromMenu(page, "Import…");
  await page.getByRole("textbox", { name: "Text to import" }).fill("name: Shipping\nlabel -> hand_over\n");
  await page.getByRole("dialog", { name: "Import" }).getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Shipping");

  await importFile(page, PAYMENT_BPMN);
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Payment with confirmation");
  await expect(page.locator('[data-node-id="Task_Ship"]')).toHaveClass(/kind-sub-flow/);
  await expect(page.locator('[data-node-id="Task_Confirm"]')).toHaveClass(/kind-wait/);
  await expect(page.locator(".edge-label").filter({ hasText: "amount > 1000" })).toBeVisible();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  const state = (id: string) => page.locator(`[data-node-id="${id}"]`);
  const confirmed = async () => {
    await page.getByRole("button", { name: "Send PaymentConfirmed" }).click();
    await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  };

  // Over 1000: manual review, then the confirmation, the packing, the cooling-off and the
  // Shipping process as a child run.
  await runWith(page, '{"amount": 1500, "items": ["book", "lamp"]}', "1");
  await confirmed();
  await expect(state("Task_Review")).toHaveAttribute("data-state", "succeeded");
  await expect(state("Task_Ship")).toHaveAttribute("data-state", "succeeded");
  await page.getByRole("tab", { name: "Summary" }).click();
  await expect(page.getByRole("list", { name: "Runs tied to this one by sub-flows" })).toContainText(
    /Ship: child run …\.Task_Ship\.1\.1 — completed\./,
  );
  // 1000 or less: no review.
  await runWith(page, '{"amount": 200, "items": ["book"]}', "1");
  await confirmed();
  await expect(state("Task_Review")).toHaveAttribute("data-state", "skipped");
  await expect(state("Task_Ship")).toHaveAttribute("data-state", "succeeded");
  // No confirmation: the boundary timer fails the wait after 3 s, and the order is cancelled.
  await runWith(page, '{"amount": 200, "items": []}', "4");
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  await expect(state("Task_Cancel")).toHaveAttribute("data-state", "succeeded");
  await expect(state("Task_Ship")).toHaveAttribute("data-state", "skipped");
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(page.getByRole("list", { name: "Run log" })).toContainText("Await bank confirmation failed after 1 attempt: timed out");

  // Written back as Camunda Modeler draws it: the decision an exclusive gateway with its
  // FEEL condition and a default flow; the wait, which goes on to cancel the order when it
  // times out, an event-based gateway racing the message against a timer.
  await fromMenu(page, "Export…");
  const dialog = page.getByRole("dialog", { name: "Export" });
  await dialog.getByRole("combobox", { name: "Export format" }).selectOption({ label: "BPMN 2.0 XML (Camunda Modeler, bpmn.io)" });
  const xml = await dialog.getByRole("textbox", { name: "Exported text" }).inputValue();
  expect(xml).toMatch(/<bpmn:exclusiveGateway id="Decide_1" name="[^"]+\?" default="Flow_\d+" \/>/);
  expect(xml).toContain('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=amount &gt; 1000</bpmn:conditionExpression>');
  expect(xml).toMatch(/<bpmn:eventBasedGateway id="Task_Confirm" name="Await bank confirmation"/);
  expect(xml).toMatch(/<bpmn:messageEventDefinition messageRef="Message_\d+" \/>/);
  expect(xml).toContain('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT3S</bpmn:timeDuration>');
  expect(xml).toContain('<bpmn:callActivity id="Task_Ship" name="Ship" calledElement="Shipping"');
});

test("a Step Functions state machine from disk runs; exported again, it reads back the same", async ({ page }) => {
  await openEditor(page);
  await importFile(page, STATE_MACHINE);
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue(
    "Order with payment, in the style of the AWS Step Functions examples",
  );
  await expect(page.locator("[data-node-id]")).toHaveCount(11);
  await expect(page.locator('[data-node-id="Pack items"]')).toHaveClass(/kind-for-each/);
  await expect(page.locator('[data-node-id="Cooling-off"]')).toHaveClass(/kind-timer/);
  await expect(page.locator(".edge-label").filter({ hasText: '(amount > 1000) && (!(tier == "gold"))' })).toBeVisible();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  const state = (id: string) => page.locator(`[data-node-id="${id}"]`);
  // A large order of a silver customer: reviewed, charged, packed, then receipt and
  // shipping at once, joined at Done.
  await runWith(page, '{"amount": 1500, "tier": "silver", "items": ["book", "lamp"]}', "4");
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  for (const id of ["Manual review", "Charge card", "Cooling-off", "Pack items", "Send receipt", "Ship", "Done"]) {
    await expect(state(id)).toHaveAttribute("data-state", "succeeded");
  }
  await expect(state("Cancel order")).toHaveAttribute("data-state", "skipped");
  // A gold customer's is not reviewed.
  await runWith(page, '{"amount": 1500, "tier": "gold", "items": ["book"]}', "4");
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  await expect(state("Manual review")).toHaveAttribute("data-state", "skipped");

  // Written as a state machine, and read back: the same steps and edges.
  await fromMenu(page, "Export…");
  const dialog = page.getByRole("dialog", { name: "Export" });
  await dialog.getByRole("combobox", { name: "Export format" }).selectOption({ label: "AWS Step Functions (Amazon States Language)" });
  const text = dialog.getByRole("textbox", { name: "Exported text" });
  await expect(text).toHaveValue(/"StartAt": "Check stock"/);
  const machine = JSON.parse(await text.inputValue());
  expect(machine.States["Amount?"].Type).toBe("Choice");
  expect(machine.States["Pack items"].Type).toBe("Map");
  expect(machine.States["Pack items branches"].Type).toBe("Parallel");
  const written = await text.inputValue();
  await dialog.getByRole("button", { name: "Close" }).click();
  await fromMenu(page, "Import…");
  await page.getByRole("textbox", { name: "Text to import" }).fill(written);
  await page.getByRole("dialog", { name: "Import" }).getByRole("button", { name: "Import" }).click();
  await expect(page.locator("[data-node-id]")).toHaveCount(11);
  await expect(page.locator(".edge-label").filter({ hasText: '(amount > 1000) && (!(tier == "gold"))' })).toBeVisible();

  // A choreographed flow has no state machine: the dialog says which edge and why.
  await fromMenu(page, "Import…");
  await page.getByRole("textbox", { name: "Text to import" }).fill("name: Evented\na ~> b : Done\n");
  await page.getByRole("dialog", { name: "Import" }).getByRole("combobox", { name: "Import format" }).selectOption("auto");
  await page.getByRole("dialog", { name: "Import" }).getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await fromMenu(page, "Export…");
  await dialog.getByRole("combobox", { name: "Export format" }).selectOption("asl");
  await expect(dialog.getByRole("alert")).toContainText("the workflow cannot be written as asl");
  await expect(dialog.getByRole("alert")).toContainText("is an event: a state machine commands every step — convert the workflow to orchestration first");
});
