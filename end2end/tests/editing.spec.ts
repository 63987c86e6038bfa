import { test, expect } from "@playwright/test";
import { center, connect, drag, expectStepsInside, freshWorkflow, fromMenu, fromTemplate } from "./helpers";

test("keys switch edge kinds and delete; undo and redo walk back and forth through the edits", async ({ page }) => {
  await freshWorkflow(page, 3);
  await connect(page, "Step 1", "Step 2");
  const edge = page.locator('[data-edge-id]');
  await expect(edge).toHaveCount(1);
  await expect(edge).toHaveClass(/command/);

  // The new edge is selected: E and C switch its kind.
  await page.keyboard.press("e");
  await expect(edge).toHaveClass(/event/);
  await page.keyboard.press("c");
  await expect(edge).toHaveClass(/command/);
  await page.keyboard.press("e");

  // Move step 3 by dragging: one gesture, one undo step.
  const step3 = page.getByRole("button", { name: "Step 3", exact: true });
  const before = (await step3.boundingBox())!;
  const grip = await center(step3);
  await drag(page, grip, { x: grip.x + 30, y: grip.y + 150 });
  const moved = (await step3.boundingBox())!;
  expect(moved.y - before.y).toBeGreaterThan(120);

  // Delete step 2 with the keyboard: its edge goes with it.
  await page.getByRole("button", { name: "Step 2", exact: true }).click();
  await page.keyboard.press("Delete");
  await expect(page.locator("[data-node-id]")).toHaveCount(2);
  await expect(edge).toHaveCount(0);

  // Undo: step 2 and its event edge come back; then the move is undone in one step.
  await page.keyboard.press("Control+z");
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
  await expect(edge).toHaveClass(/event/);
  await page.keyboard.press("Control+z");
  const back = (await step3.boundingBox())!;
  expect(Math.abs(back.y - before.y)).toBeLessThan(2);
  // Undo the kind switches, then the connection itself.
  await page.keyboard.press("Control+z");
  await expect(edge).toHaveClass(/command/);
  await page.keyboard.press("Control+z");
  await page.keyboard.press("Control+z");
  await page.keyboard.press("Control+z");
  await expect(edge).toHaveCount(0);

  // Redo with the keyboard and with the toolbar button.
  await page.keyboard.press("Control+Shift+z");
  await expect(edge).toHaveCount(1);
  await page.getByRole("button", { name: "Redo" }).click();
  await page.keyboard.press("Control+y");
  await expect(edge).toHaveClass(/command/);
  await page.keyboard.press("Control+y");
  await expect(edge).toHaveClass(/event/);

  // Typing in a field is not a shortcut: "e" and Backspace edit the name.
  const name = page.getByRole("textbox", { name: "Workflow name" });
  await name.fill("Keys");
  await name.press("e");
  await name.press("Backspace");
  await expect(name).toHaveValue("Keys");
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
});

test("a design problem gets a badge and a list entry, which select the step, and both clear when fixed", async ({ page }) => {
  await freshWorkflow(page, 2);
  await connect(page, "Step 1", "Step 2");
  await connect(page, "Step 2", "Step 1");
  // A loop of commands with no bound, which nothing enters: an error on the edge that
  // closes it, and both steps can never run.
  const problems = page.getByRole("region", { name: "Problems" });
  await expect(problems.getByRole("heading")).toHaveText("Problems (3)");
  const loop = problems.getByRole("button", { name: /closes a loop with no bound/ });
  await expect(loop).toHaveText(/edge e1 from Step 1 back to Step 2 closes a loop with no bound: the orchestrator would command round it for ever/);
  const badge = page.locator('[data-node-id="step-1"] .badge.warning');
  await expect(badge).toBeVisible();
  await expect(badge).toHaveAttribute("aria-label", /can never run/);
  await problems.getByRole("button", { name: /Step 1 can never run/ }).click();
  await expect(page.locator('[data-node-id="step-1"]')).toHaveClass(/selected/);

  // The error selects its edge; a bound in the inspector makes the loop a bounded one,
  // drawn with its mark.
  await loop.click();
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  const bound = inspector.getByRole("spinbutton", { name: "Loop: at most (times)" });
  await bound.fill("3");
  await bound.press("Tab");
  await expect(problems.getByRole("heading")).toHaveText("Problems (2)");
  await expect(page.locator("g.edge-group .edge-label").filter({ hasText: "↻ at most 3×" })).toHaveCount(1);

  // Break the cycle (undo the bound, then the last connection): step 1 is a root again.
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(problems.getByRole("heading")).toHaveText("Problems (3)");
  await page.keyboard.press("Control+z");
  await expect(page.locator("[data-edge-id]")).toHaveCount(1);
  await expect(problems.getByRole("heading")).toHaveText("Problems (0)");
  await expect(badge).toHaveCount(0);
});

test("auto layout places steps in layers from left to right, undoably", async ({ page }) => {
  await freshWorkflow(page, 3);
  await connect(page, "Step 3", "Step 2");
  await connect(page, "Step 2", "Step 1");
  const x = async (name: string) => (await page.getByRole("button", { name, exact: true }).boundingBox())!.x;
  expect(await x("Step 1")).toBeLessThan(await x("Step 3"));
  await page.getByRole("button", { name: "Auto layout" }).click();
  await expect.poll(async () => (await x("Step 3")) < (await x("Step 2")) && (await x("Step 2")) < (await x("Step 1"))).toBe(true);
  await page.getByRole("button", { name: "Undo" }).click();
  await expect.poll(async () => (await x("Step 1")) < (await x("Step 3"))).toBe(true);
});

test("behaviour fields validate as you type, and a run with input shows the unhandled failure", async ({ page }) => {
  await freshWorkflow(page, 2);
  await connect(page, "Step 1", "Step 2");
  await page.keyboard.press("e");
  await page.getByRole("button", { name: "Step 2", exact: true }).click();

  const inspector = page.getByRole("complementary", { name: "Inspector" });
  const rate = inspector.getByRole("textbox", { name: "Failure rate (0-1)" });
  await rate.fill("2");
  await expect(rate).toHaveAttribute("aria-invalid", "true");
  await expect(inspector.getByRole("alert")).toHaveText("must be between 0 and 1, got 2");
  await rate.fill("0");
  await expect(rate).toHaveAttribute("aria-invalid", "false");
  const latency = inspector.getByRole("textbox", { name: "Latency (ms)" });
  await latency.fill("fast");
  await expect(inspector.getByRole("alert")).toHaveText(/"fast" is not a number/);
  await latency.fill("40");
  await expect(inspector.getByRole("alert")).toHaveCount(0);
  await inspector.getByRole("textbox", { name: "Fail when input field" }).fill("card");
  await inspector.getByRole("textbox", { name: "…equals" }).fill("expired");

  // The design warning appears at once: an event-driven step that can fail, unheard.
  await expect(page.getByRole("region", { name: "Problems" }).getByRole("button", { name: /nobody subscribes to Step2Failed/ })).toBeVisible();

  // Deselect, give the run an input (refused until it is a JSON object), run.
  // (Top right: no step there, and clear of the legend and the zoom buttons.)
  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  await canvas.click({ position: { x: (await canvas.boundingBox())!.width - 40, y: 30 } });
  const input = inspector.getByRole("textbox", { name: "Run input" });
  await input.fill('{"card": "expired"');
  await expect(page.getByRole("button", { name: "Run", exact: true })).toBeDisabled();
  await input.fill('{"card": "expired"}');
  await expect(page.getByRole("button", { name: "Run", exact: true })).toBeEnabled();
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.locator('[data-node-id="step-1"]')).toHaveAttribute("data-state", "succeeded");
  await expect(page.locator('[data-node-id="step-2"]')).toHaveAttribute("data-state", "failed");
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run failed");
  await expect(page.getByRole("status", { name: "Diagnosis" })).toContainText("published Step2Failed, but nobody subscribes to it");
  // Said once on the page: the Summary tells the failure and ends with the outcome.
  const story = page.getByRole("list", { name: "What happened" }).getByRole("listitem");
  await expect(story.last()).toHaveText("The run failed: nobody handled the failure above");
  await expect(page.getByText(/published Step2Failed, but nobody subscribes to it/).filter({ visible: true })).toHaveCount(1);
  // The unhandled failure is marked on the step whose event nobody heard, and only there.
  await expect(page.locator('[data-node-id="step-2"] .unheard')).toHaveAttribute("aria-label", /^unhandled failure: .*nobody subscribes to it/);
  await expect(page.locator(".unheard")).toHaveCount(1);
});

test("a step writes into the run data: typed in the inspector, drawn from the seed, told in the log and the summary", async ({ page }) => {
  await freshWorkflow(page, 2);
  await connect(page, "Step 1", "Step 2");
  await page.getByRole("button", { name: "Step 1", exact: true }).click();
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  const writes = inspector.getByRole("textbox", { name: "Writes" });
  // Refused as typed, with the reason: chances that do not add up to 1.
  await writes.fill("amount = 120; approved = true 80% | false 10%");
  await expect(writes).toHaveAttribute("aria-invalid", "true");
  await expect(inspector.getByRole("alert")).toHaveText("approved: the chances add up to 0.900, not 1");
  await writes.fill("amount = 120; approved = true 100% | false 0%");
  await expect(writes).toHaveAttribute("aria-invalid", "false");
  await page.keyboard.press("Tab");
  // Back in the model's own words once the field is left.
  await expect(writes).toHaveValue("amount = 120; approved = true 100% | false 0%");

  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  await canvas.click({ position: { x: (await canvas.boundingBox())!.width - 40, y: 30 } });
  await inspector.getByRole("textbox", { name: "Run input" }).fill('{"customer": "kim"}');
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  await expect(page.getByRole("list", { name: "What happened" }).getByRole("listitem")).toHaveText([
    "Written into the run data: amount = 120, approved = true (Step 1)",
    "Completed",
  ]);
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(page.getByRole("list", { name: "Run log" })).toContainText("Step 1 succeeded (attempt 1) and wrote amount = 120, approved = true");
});

test("a decision on the run data: a condition typed on an edge, each branch run by its input, the branch taken said", async ({ page }) => {
  await freshWorkflow(page, 3);
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  // The new edge is selected: give it a condition; the other edge stays the default.
  await connect(page, "Step 1", "Step 2");
  await inspector.getByRole("textbox", { name: "Condition (CEL, on the run data)" }).fill("amount > 100");
  await expect(page.locator("g.edge-group .edge-label").filter({ hasText: "[amount > 100]" })).toHaveCount(1);
  await connect(page, "Step 1", "Step 3");
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  // Nothing provides amount yet: said, until the next run's input brings it.
  const problems = page.getByRole("region", { name: "Problems" });
  await expect(problems).toContainText("reads amount, which no step writes or reads from the input and no event carries");

  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  const runWith = async (input: string) => {
    await canvas.click({ position: { x: (await canvas.boundingBox())!.width - 40, y: 30 } });
    await inspector.getByRole("textbox", { name: "Run input" }).fill(input);
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  };
  await runWith('{"amount": 150}');
  await expect(problems).not.toContainText("reads amount");
  await expect(page.locator('[data-node-id="step-2"]')).toHaveAttribute("data-state", "succeeded");
  await expect(page.locator('[data-node-id="step-3"]')).not.toHaveAttribute("data-state", "succeeded");
  await page.getByRole("tab", { name: "Log" }).click();
  const log = page.getByRole("list", { name: "Run log" });
  await expect(log).toContainText("orchestrator decided after Step 1: on to Step 2 (it saw amount = 150)");
  await page.getByRole("tab", { name: "Summary" }).click();
  await expect(page.getByRole("list", { name: "What happened" }).getByRole("listitem")).toHaveText([
    "Decided on the run data: after Step 1, on to Step 2 (it saw amount = 150)",
    "Completed",
  ]);
  await page.getByRole("tab", { name: "Log" }).click();
  // The other input, the other branch: the default.
  await runWith('{"amount": 50}');
  await expect(page.locator('[data-node-id="step-3"]')).toHaveAttribute("data-state", "succeeded");
  await expect(page.locator('[data-node-id="step-2"]')).not.toHaveAttribute("data-state", "succeeded");
  await expect(log).toContainText("orchestrator decided after Step 1: on to Step 3 (it saw amount = 50)");

  // A condition that is not CEL is refused by the server, naming the edge and why.
  await page.locator('g.edge-group').filter({ hasText: "[amount > 100]" }).locator(".edge-hit").click({ force: true });
  await inspector.getByRole("textbox", { name: "Condition (CEL, on the run data)" }).fill("amount >");
  await expect(page.getByRole("alert").filter({ hasText: "condition: the condition cannot be read" })).toBeVisible();
});

test("pan by dragging the empty canvas, zoom with buttons, wheel and keys, fit to view", async ({ page }) => {
  await fromTemplate(page, "Fan-out group (ten parallel adds)", `Fan-out ${Date.now()}`);
  await expect(page.locator("[data-node-id]")).toHaveCount(12);
  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  const frame = (await canvas.boundingBox())!;
  const start = page.getByRole("button", { name: "Start group", exact: true });
  const level = page.getByLabel("Zoom level");
  // The workflow opens fitted to the view: every step inside the canvas, zoomed out to fit.
  const inside = () => expectStepsInside(page, frame);
  await inside();
  const fitted = parseInt(await level.innerText());
  expect(fitted).toBeLessThan(100);

  // Pan: drag empty canvas; the step moves with it.
  const before = (await start.boundingBox())!;
  await page.mouse.move(frame.x + frame.width - 60, frame.y + 30);
  await page.mouse.down();
  await page.mouse.move(frame.x + frame.width - 160, frame.y + 90, { steps: 8 });
  await page.mouse.up();
  const panned = (await start.boundingBox())!;
  expect(Math.round(panned.x - before.x)).toBe(-100);
  expect(Math.round(panned.y - before.y)).toBe(60);

  // Zoom out with the button and the key, in with the wheel.
  await page.getByRole("button", { name: "Zoom out" }).click();
  await expect.poll(async () => parseInt(await level.innerText())).toBeLessThan(fitted);
  const once = parseInt(await level.innerText());
  await page.keyboard.press("-");
  await expect.poll(async () => parseInt(await level.innerText())).toBeLessThan(once);
  const small = (await start.boundingBox())!;
  expect(small.width).toBeLessThan(before.width * 0.7);
  const smallest = parseInt(await level.innerText());
  await page.mouse.move(frame.x + frame.width / 2, frame.y + frame.height / 2);
  await page.mouse.wheel(0, -300);
  await expect.poll(async () => parseInt(await level.innerText())).toBeGreaterThan(smallest);

  // Zoom in far, then fit (key F): every step inside the canvas again.
  for (let i = 0; i < 4; i++) await page.getByRole("button", { name: "Zoom in" }).click();
  await page.keyboard.press("f");
  await inside();
  // Dragging a step still follows the pointer exactly when zoomed.
  const grip = await center(start);
  const box = (await start.boundingBox())!;
  await drag(page, grip, { x: grip.x + 40, y: grip.y + 20 });
  const after = (await start.boundingBox())!;
  expect(Math.abs(after.x - box.x - 40)).toBeLessThan(3);
  expect(Math.abs(after.y - box.y - 20)).toBeLessThan(3);
});

test("a choreographed decision: every subscriber filters the event, the convert dialog says where the rule goes", async ({ page }) => {
  await freshWorkflow(page, 3);
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  // Step 1 writes what the subscribers decide on.
  await page.getByRole("button", { name: "Step 1", exact: true }).click();
  await inspector.getByRole("textbox", { name: "Writes" }).fill("approved = true");
  await inspector.getByRole("textbox", { name: "Writes" }).press("Tab");
  // Each new edge, an event with the rule in its subscriber; the condition's field is a
  // click away.
  for (const [to, rule] of [["Step 2", "approved"], ["Step 3", "!approved"]]) {
    await connect(page, "Step 1", to);
    await inspector.getByRole("combobox", { name: "Edge kind" }).selectOption("event");
    const condition = inspector.getByRole("textbox", { name: "Condition (CEL, on the run data)" });
    if (rule === "approved") {
      await inspector.getByRole("group", { name: "Fields the steps write (click to add)" }).getByRole("button", { name: "approved" }).click();
      await expect(condition).toHaveValue("approved");
    } else {
      await condition.fill(rule);
    }
    await inspector.getByRole("combobox", { name: "Who decides" }).selectOption("subscriber");
  }
  await expect(page.locator("g.edge-group .edge-label").filter({ hasText: "[filter: !approved]" })).toHaveCount(1);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");

  // An event's payload is a list of field names: a bad one is named, and nothing changes.
  await inspector.getByRole("textbox", { name: "Payload (fields the event carries)" }).fill("approved, 2x");
  await inspector.getByRole("textbox", { name: "Payload (fields the event carries)" }).press("Tab");
  await expect(inspector.getByRole("alert")).toHaveText('"2x" is not a field name: a letter or _, then letters, digits or _, at most 64 characters');

  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  await canvas.click({ position: { x: (await canvas.boundingBox())!.width - 40, y: 30 } });
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  await expect(page.locator('[data-node-id="step-2"]')).toHaveAttribute("data-state", "succeeded");
  await expect(page.locator('[data-node-id="step-3"]')).not.toHaveAttribute("data-state", "succeeded");
  await expect(page.getByRole("list", { name: "What happened" }).getByRole("listitem")).toContainText([
    "Subscribers checked their filters: Step 2 acted on Step1Completed (it saw approved = true); Step 3 dropped Step1Completed (it saw approved = true)",
  ]);
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(page.getByRole("list", { name: "Run log" })).toContainText("Step 3 dropped Step1Completed: its filter does not hold (it saw approved = true)");

  // Converted to orchestration, the rule moves into the orchestrator, and the dialog says so.
  await fromMenu(page, "Convert…");
  const dialog = page.getByRole("dialog", { name: "Convert" });
  await dialog.getByRole("radio", { name: "All orchestration" }).check();
  await expect(dialog.getByRole("list", { name: "Where each decision and wait goes" })).toHaveText(
    "The rule after Step 1 moved into the orchestrator: one place knows it.",
  );
});

test("a step that waits for a message: drawn as a wait, counting down, and sent its message from the editor", async ({ page }) => {
  await freshWorkflow(page, 2);
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await page.getByRole("button", { name: "Step 2", exact: true }).click();
  const message = inspector.getByRole("textbox", { name: "Waits for message" });
  await message.fill("PaymentConfirmed");
  await message.press("Tab");
  // With no timeout the design says what happens if the message never comes.
  await expect(page.getByRole("region", { name: "Problems" })).toContainText(
    "Step 2 waits for PaymentConfirmed with no timeout: if it never comes, the run waits for ever and nobody is told",
  );
  const timeout = inspector.getByRole("textbox", { name: "Timeout for the message (ms)" });
  await timeout.fill("60000");
  await timeout.press("Tab");
  await expect(page.getByRole("region", { name: "Problems" })).not.toContainText("with no timeout");
  await expect(page.locator('[data-node-id="step-2"]')).toHaveClass(/kind-wait/);
  await connect(page, "Step 1", "Step 2");
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");

  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  await canvas.click({ position: { x: (await canvas.boundingBox())!.width - 40, y: 30 } });
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const step2 = page.locator('[data-node-id="step-2"]');
  await expect(step2.locator(".wait-text")).toHaveText(/^waits for PaymentConfirmed · \d+ s left$/);
  const left = Number((await step2.locator(".wait-text").textContent())!.match(/(\d+) s left/)![1]);
  expect(left).toBeGreaterThan(40);
  expect(left).toBeLessThanOrEqual(60);
  await expect(page.getByRole("status", { name: "Run state" })).not.toHaveText("Run completed");
  await page.getByRole("button", { name: "Send PaymentConfirmed" }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  await expect(step2).toHaveAttribute("data-state", "succeeded");
  await expect(step2.locator(".wait-text")).toHaveCount(0);
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(page.getByRole("list", { name: "Run log" })).toContainText("PaymentConfirmed arrived (from outside): Step 2 stops waiting");
  await expect(page.getByRole("list", { name: "Run log" })).toContainText("Step 2 waits for PaymentConfirmed (timeout 60000 ms)");
  await page.getByRole("tab", { name: "Summary" }).click();
  await expect(page.getByRole("list", { name: "What happened" })).toContainText(
    "Messages received: PaymentConfirmed (from outside) ended Step 2's wait",
  );
});

test("a loop with a bound: the payment goes round with another card at most three times, the turns told", async ({ page }) => {
  await fromTemplate(page, "Payment with another card, at most 3 times", `Card loop ${Date.now()}`);
  await expect(page.locator("g.edge-group .edge-label").filter({ hasText: "on failure ↻ at most 3×" })).toHaveCount(1);
  const seed = page.getByRole("textbox", { name: "Run seed" });
  const runWith = async (value: string) => {
    await seed.fill(value);
    await page.getByRole("combobox", { name: "Run speed" }).selectOption("4");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  };
  // Seed 15: every card is declined; after three more cards the order is cancelled.
  await runWith("15");
  await expect(page.locator('[data-node-id="cancel"]')).toHaveAttribute("data-state", "succeeded");
  await expect(page.locator('[data-node-id="ship"]')).not.toHaveAttribute("data-state", "succeeded");
  await page.getByRole("tab", { name: "Summary" }).click();
  const story = page.getByRole("list", { name: "What happened" });
  await expect(story).toContainText("Looped: from Charge card back to Ask for another card 3 time(s), all its bound allows");
  await page.getByRole("tab", { name: "Log" }).click();
  const log = page.getByRole("list", { name: "Run log" });
  await expect(log).toContainText("the loop back to Ask for another card runs its iteration 3 of 3");
  await expect(log).toContainText("orchestrator decided after Charge card: on to Cancel order (it saw —); the loop back to Ask for another card ran its 3 iterations: it is not taken again");
  // Seed 2: the third card is accepted, and the order ships.
  await runWith("2");
  await expect(page.locator('[data-node-id="ship"]')).toHaveAttribute("data-state", "succeeded");
  await expect(page.locator('[data-node-id="cancel"]')).not.toHaveAttribute("data-state", "succeeded");
  await page.getByRole("tab", { name: "Summary" }).click();
  await expect(story).toContainText("Looped: from Charge card back to Ask for another card 2 time(s), of at most 3");
});

test("a for-each packs every item of the order at once: drawn as a stack, its items told in the log", async ({ page }) => {
  await fromTemplate(page, "Pack every item of the order at once", `Items ${Date.now()}`);
  const pack = page.locator('[data-node-id="pack"]');
  await expect(pack).toHaveClass(/kind-for-each/);
  await page.getByRole("button", { name: "Pack items", exact: true }).click();
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await expect(inspector.getByRole("textbox", { name: "For each item of (list field)" })).toHaveValue("items");
  // Nothing selected: the inspector shows the run's controls again.
  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  await canvas.click({ position: { x: (await canvas.boundingBox())!.width - 40, y: 30 } });
  const seed = page.getByRole("textbox", { name: "Run seed" });
  const log = page.getByRole("list", { name: "Run log" });
  const runWith = async (value: string) => {
    await seed.fill(value);
    await page.getByRole("combobox", { name: "Run speed" }).selectOption("4");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
    await page.getByRole("tab", { name: "Log" }).click();
  };
  // Seed 1: all three items packed; the step took as long as the slowest.
  await runWith("1");
  await expect(log).toContainText("Pack items works on each of the 3 items of items, all at once");
  await expect(log).toContainText("Pack items: all 3 items done (the slowest took 280 ms)");
  await expect(page.locator('[data-node-id="ship"]')).toHaveAttribute("data-state", "succeeded");
  // Seed 3: the third item fails, and with it the packing: the order is cancelled.
  await runWith("3");
  await expect(log).toContainText("Pack items: 1 of 3 items failed (#3)");
  await expect(page.locator('[data-node-id="cancel"]')).toHaveAttribute("data-state", "succeeded");
});

test("a sub-flow runs its child run: the parent links to the child and its undo run, the child back to its parent", async ({ page }) => {
  await fromTemplate(page, "Order with its payment as a sub-flow", `Sub-flow ${Date.now()}`);
  const pay = page.locator('[data-node-id="pay"]');
  await expect(pay).toHaveClass(/kind-sub-flow/);
  await page.getByRole("button", { name: "Pay", exact: true }).click();
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await expect(inspector.getByRole("combobox", { name: "Sub-flow: run workflow" })).toHaveValue("template-payment-sub-flow");
  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  await canvas.click({ position: { x: (await canvas.boundingBox())!.width - 40, y: 30 } });
  // Seed 2: Shipping fails, the saga undoes the payment as a unit.
  await page.getByRole("textbox", { name: "Run seed" }).fill("2");
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("4");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run compensated");
  await expect(pay).toHaveAttribute("data-state", "compensated");
  await page.getByRole("tab", { name: "Summary" }).click();
  const related = page.getByRole("list", { name: "Runs tied to this one by sub-flows" });
  await expect(related).toContainText(/Pay: child run …\.pay\.1\.1 — completed\./);
  const story = page.getByRole("list", { name: "What happened" });
  await expect(story).toContainText("Sub-flows: Pay ran child run ….pay.1.1, which ended completed; Pay's child was undone as a unit by undo run ….pay.1.1.undo (compensated)");
  const parentUrl = page.url();
  // The child run: the Payment flow, every step done, and a way back to its parent.
  await related.getByRole("link", { name: "Open the child run" }).click();
  await expect(page).toHaveURL(/run=[0-9a-f]{32}\.pay\.1\.1$/);
  await expect(page.locator('[data-node-id="charge"]')).toHaveAttribute("data-state", "succeeded");
  await expect(page.locator('[data-node-id="reserve"]')).toHaveAttribute("data-state", "succeeded");
  await page.getByRole("tab", { name: "Summary" }).click();
  await expect(related).toContainText(/A child run, started by step pay of run [0-9a-f]{8}\./);
  // Its undo run, from the parent: both steps undone, newest first.
  await page.goBack();
  await expect(page).toHaveURL(parentUrl);
  await page.getByRole("tab", { name: "Summary" }).click();
  await related.getByRole("link", { name: "Open its undo run" }).click();
  await expect(page).toHaveURL(/run=[0-9a-f]{32}\.pay\.1\.1\.undo$/);
  await expect(page.locator('[data-node-id="charge"]')).toHaveAttribute("data-state", "compensated");
  await expect(page.locator('[data-node-id="reserve"]')).toHaveAttribute("data-state", "compensated");
  await page.getByRole("tab", { name: "Summary" }).click();
  await related.getByRole("link", { name: "Open the parent run" }).click();
  await expect(page).toHaveURL(parentUrl);
  await expect(pay).toHaveAttribute("data-state", "compensated");
  // The runs list links the parent to its children.
  await page.getByRole("tab", { name: "Runs" }).click();
  await expect(page.getByRole("list", { name: "Runs" }).getByRole("link", { name: /↘ child run …\.pay\.1\.1$/ })).toHaveCount(1);
});
