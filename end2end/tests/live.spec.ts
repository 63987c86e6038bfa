import { test, expect, type Page } from "@playwright/test";
import { AS_A_BROWSER, fromTemplate, openEditor } from "./helpers";

/** A fresh copy of the orchestrated order-processing template (no runs yet), renamed. */
async function freshOrderProcessing(page: Page) {
  await openEditor(page);
  await page
    .getByRole("navigation", { name: "Workflows" })
    .getByRole("button", { name: "Use template Order processing, orchestrated" })
    .click();
  const name = page.getByRole("textbox", { name: "Workflow name" });
  await expect(name).toHaveValue("Order processing, orchestrated");
  await expect(page).toHaveURL(/\?workflow=template-order-orchestrated$/);
  // Renaming is the first edit: the user's own copy.
  await name.fill(`Live ${Date.now()}`);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await expect(page).toHaveURL(/\?workflow=[0-9a-f]{32}/);
}

/** The seqs shown in the log (newest first). */
async function logSeqs(page: Page): Promise<number[]> {
  return page.getByRole("list", { name: "Run log" }).locator("li").evaluateAll((items) =>
    items.map((li) => Number(li.getAttribute("data-seq"))),
  );
}

test("a run shows its states, summary and log; the runs list keeps every run, and a past one opens again", async ({ page }) => {
  await freshOrderProcessing(page);
  const runs = page.getByRole("list", { name: "Runs" });
  await page.getByRole("tab", { name: "Runs" }).click();
  await expect(page.getByText("No runs of this workflow yet.")).toBeVisible();

  // Seed and speed are checked as typed.
  const seed = page.getByRole("textbox", { name: "Run seed" });
  await seed.fill("-3");
  await expect(page.getByRole("button", { name: "Run", exact: true })).toBeDisabled();
  await seed.fill("42");
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("4");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  await expect(page.getByRole("status", { name: "Connection" })).toHaveText("Complete");
  for (const id of ["validate", "charge", "confirm"]) {
    await expect(page.locator(`[data-node-id="${id}"]`)).toHaveAttribute("data-state", "succeeded");
  }
  // The runs feed put the run in the list, with its messages.
  await expect(runs.getByRole("button")).toHaveCount(1);

  await page.getByRole("tab", { name: "Summary" }).click();
  await expect(page.getByLabel("Status", { exact: true })).toHaveText("completed");
  await expect(page.getByLabel("Steps executed", { exact: true })).toHaveText("3");
  await expect(page.getByLabel("Events", { exact: true })).toHaveText("0");
  await expect(page.getByLabel("Deliveries", { exact: true })).toHaveText("0");
  // Orchestration: every message passes through the orchestrator.
  const commands = Number(await page.getByLabel("Commands", { exact: true }).innerText());
  const replies = Number(await page.getByLabel("Replies", { exact: true }).innerText());
  expect(commands).toBeGreaterThanOrEqual(2);
  await expect(page.getByLabel("Through the orchestrator", { exact: true })).toHaveText(String(commands + replies));
  // Durations are simulated milliseconds, the playback speed said apart.
  await expect(page.getByLabel("Duration", { exact: true })).toHaveText(/^\d+ ms simulated, played at 4×$/);
  await page.getByRole("tab", { name: "Runs" }).click();
  await expect(runs.getByRole("button").first()).toContainText(
    new RegExp(`^completed · .* · \\d+ ms simulated · ${commands + replies} messages`),
  );

  // The log: every record once, newest first; filters by kind, step and text.
  await page.getByRole("tab", { name: "Log" }).click();
  const log = page.getByRole("list", { name: "Run log" });
  const seqs = await logSeqs(page);
  expect(seqs.length).toBeGreaterThan(8);
  expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
  expect(new Set(seqs).size).toBe(seqs.length);
  await expect(log.locator("li").first()).toContainText("run completed");
  await expect(log.locator("li").last()).toContainText("run started (seed 42, speed 4×)");
  await page.getByRole("combobox", { name: "Log kind" }).selectOption("command");
  await expect(log.locator("li")).toHaveCount(commands + replies);
  await page.getByRole("combobox", { name: "Log step" }).selectOption("charge");
  // charge: the command to it, its reply, and the command after it (to confirm).
  await expect(log.locator("li")).toHaveCount(3);
  await page.getByRole("combobox", { name: "Log kind" }).selectOption("");
  await page.getByRole("textbox", { name: "Filter log" }).fill("succeeded");
  await expect(log.locator("li")).toHaveCount(1);
  // Steps named by their labels, as on the canvas.
  await expect(log.locator("li")).toContainText("ChargePayment succeeded (attempt 1)");

  // Run again with an input that fails nothing: two runs, the newest first; open the older.
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByRole("tab", { name: "Runs" }).click();
  await expect(runs.getByRole("button")).toHaveCount(2);
  await expect(runs.getByRole("button").first()).toContainText("completed");
  await runs.getByRole("button").last().click();
  await expect(runs.getByRole("button").last()).toHaveClass(/open/);
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(log.locator("li").last()).toContainText("run started (seed 42, speed 4×)");
});

test("a live connection cut mid-run reconnects and resumes after its last record: nothing missed, nothing doubled", async ({ page }) => {
  await freshOrderProcessing(page);
  const opened: string[] = [];
  await page.routeWebSocket(/\/api\/runs\/[0-9a-f]+\/events/, (ws) => {
    opened.push(ws.url());
    const server = ws.connectToServer();
    if (opened.length > 1) {
      server.onMessage((message) => ws.send(message));
      return;
    }
    // The first connection dies after three records, mid-run.
    let passed = 0;
    server.onMessage((message) => {
      if (passed >= 3) return;
      ws.send(message);
      passed += 1;
      if (passed === 3) {
        ws.close({ code: 4000, reason: "cut by the test" });
        server.close();
      }
    });
  });
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("0.5");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Connection" })).toHaveText(/Reconnecting \(attempt 1\)…|Live/);
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 15_000 });
  await expect(page.getByRole("status", { name: "Connection" })).toHaveText("Complete");
  expect(opened.length).toBe(2);
  expect(opened[0]).toMatch(/after=0$/);
  expect(opened[1]).toMatch(/after=3$/);
  for (const id of ["validate", "charge", "confirm"]) {
    await expect(page.locator(`[data-node-id="${id}"]`)).toHaveAttribute("data-state", "succeeded");
  }
  await page.getByRole("tab", { name: "Log" }).click();
  const seqs = (await logSeqs(page)).sort((a, b) => a - b);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  await page.getByRole("tab", { name: "Summary" }).click();
  await expect(page.getByLabel("Steps executed", { exact: true })).toHaveText("3");
  await expect(page.getByLabel("Status", { exact: true })).toHaveText("completed");
});

test("two pages watching one run see the same states and the same log", async ({ page, context }) => {
  await freshOrderProcessing(page);
  const url = page.url();
  const other = await context.newPage();
  await other.goto(url);
  await expect(other.getByRole("textbox", { name: "Workflow name" })).toHaveValue(/^Live \d+$/);
  await other.getByRole("tab", { name: "Runs" }).click();

  await page.getByRole("combobox", { name: "Run speed" }).selectOption("0.5");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  // The other page learns of the run from the feed, and opens it while it is running.
  const row = other.getByRole("list", { name: "Runs" }).getByRole("button").first();
  await expect(row).toContainText("running");
  await row.click();
  for (const p of [page, other]) {
    await expect(p.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 15_000 });
    await p.getByRole("tab", { name: "Log" }).click();
  }
  expect(await logSeqs(other)).toEqual(await logSeqs(page));
  const states = (p: Page) =>
    p.locator("[data-node-id]").evaluateAll((nodes) => nodes.map((n) => `${n.getAttribute("data-node-id")}=${n.getAttribute("data-state")}`));
  expect(await states(other)).toEqual(await states(page));
});

test("messages travel along the edges while a run is live: commands and replies through the orchestrator, events over the bus", async ({ page }) => {
  await openEditor(page);
  const list = page.getByRole("navigation", { name: "Workflows" });
  await list.getByRole("button", { name: "Use template Order processing, choreographed" }).click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Order processing, choreographed");
  await page.getByRole("textbox", { name: "Workflow name" }).fill(`Live events ${Date.now()}`);
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("0.25");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.locator(".pulse-event").first()).toBeAttached();
  await expect(page.locator(".pulse-command")).toHaveCount(0);
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 15_000 });
  await expect(page.getByRole("status", { name: "Orchestrator load" })).toHaveText("Orchestrator: 0 messages · bus: 4");
  // Colour is not the only signal: the state is written, with an icon.
  await expect(page.locator('[data-node-id="confirm"] .node-state')).toHaveText("✓ succeeded");
  // Finished: nothing travels any more.
  await expect(page.locator(".pulse")).toHaveCount(0);

  await list.getByRole("button", { name: "Use template Order processing, orchestrated" }).click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Order processing, orchestrated");
  await page.getByRole("textbox", { name: "Workflow name" }).fill(`Live commands ${Date.now()}`);
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("0.25");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.locator(".pulse-command").first()).toBeAttached();
  await expect(page.locator(".pulse-reply").first()).toBeAttached();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 15_000 });
  await expect(page.getByRole("status", { name: "Orchestrator load" })).toContainText(/Orchestrator: [1-9]\d* messages · bus: 0/);
});

test("causality names what started a step back to the run's start; replay scrubs and plays a finished run", async ({ page }) => {
  await openEditor(page);
  await page
    .getByRole("navigation", { name: "Workflows" })
    .getByRole("button", { name: "Use template Order processing, choreographed" })
    .click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Order processing, choreographed");
  await page.getByRole("textbox", { name: "Workflow name" }).fill(`Live causality ${Date.now()}`);
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("4");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");

  await page.getByRole("tab", { name: "Causality" }).click();
  // Choreographed: the run's state is spread over its three services; the broker's log too.
  await expect(page.getByRole("status", { name: "Visibility" })).toContainText(
    "Places holding its state: 3 · logs to read to trace it: 4",
  );
  await expect(page.getByRole("status", { name: "Visibility" })).toContainText("longest causal chain (steps): 3");
  await expect(page.getByText("Select a step that ran")).toBeVisible();
  await page.getByRole("button", { name: "SendConfirmation", exact: true }).click();
  const before = page.getByRole("list", { name: "Triggered by" }).locator("li");
  // Steps named by their labels, as on the canvas.
  await expect(before).toHaveText([
    "ValidateOrder — started by the run's start",
    "ChargePayment — heard orderValidated, published by ValidateOrder",
    "SendConfirmation — heard paymentCharged, published by ChargePayment",
  ]);
  await expect(page.getByRole("heading", { name: "What started SendConfirmation" })).toBeVisible();
  await expect(page.getByText("Nothing: the chain ends here.")).toBeVisible();
  await page.getByRole("button", { name: "ValidateOrder", exact: true }).click();
  await expect(page.getByRole("list", { name: "Triggered", exact: true }).locator("li")).toHaveText(["ChargePayment — by the event orderValidated"]);

  await page.getByRole("tab", { name: "Replay" }).click();
  const slider = page.getByRole("slider", { name: "Replay position" });
  const state = (id: string) => page.locator(`[data-node-id="${id}"]`);
  await slider.focus();
  await page.keyboard.press("Home");
  await expect(page.getByRole("status", { name: "Replay at" })).toContainText("before the first record");
  for (const id of ["validate", "charge", "confirm"]) await expect(state(id)).toHaveAttribute("data-state", "pending");
  // Step through: validate runs first, the others still wait.
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("status", { name: "Replay at" })).toContainText("record 3 of");
  await expect(state("validate")).not.toHaveAttribute("data-state", "pending");
  await expect(state("confirm")).toHaveAttribute("data-state", "pending");
  await page.getByRole("button", { name: "Play 4×" }).click();
  await expect(state("confirm")).toHaveAttribute("data-state", "succeeded");
  await expect(page.getByRole("status", { name: "Replay at" })).toContainText(/record (\d+) of \1 · .* run completed/);
  await page.getByRole("button", { name: "End (live view)" }).click();
  await expect(state("charge")).toHaveAttribute("data-state", "succeeded");
});

test("the timeline draws a lane per step, a bar per attempt and compensation, and the messages between lanes", async ({ page }) => {
  await openEditor(page);
  await page
    .getByRole("navigation", { name: "Workflows" })
    .getByRole("button", { name: "Use template E-commerce with two failures, orchestrated" })
    .click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("E-commerce with two failures, orchestrated");
  await page.getByRole("textbox", { name: "Workflow name" }).fill(`Live timeline ${Date.now()}`);
  await page.getByRole("textbox", { name: "Run input" }).fill('{"stock": "none"}');
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("4");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run compensated");

  // The edges a message went along stay lit; the rest were never taken.
  // Edges are named by their steps' labels, as the canvas shows them.
  const labels: Record<string, string> = { order: "Order Placement", payment: "Payment", fulfillment: "Fulfillment", email: "Email", "notify-rejected": "Notify payment rejected", "order-rejected": "Update order (rejected)" };
  const edge = (from: string, to: string) => page.getByRole("button", { name: `command edge from ${labels[from]} to ${labels[to]}`, exact: true });
  await expect(edge("order", "payment")).toHaveClass(/traversed/);
  await expect(edge("payment", "fulfillment")).toHaveClass(/traversed/);
  await expect(edge("fulfillment", "email")).not.toHaveClass(/traversed/);
  await expect(edge("payment", "notify-rejected")).not.toHaveClass(/traversed/);

  await page.getByRole("tab", { name: "Timeline" }).click();
  const timeline = page.getByRole("img", { name: "Run timeline" });
  await expect(timeline.locator(".lane-name")).toHaveCount(6);
  await expect(timeline.locator(".lane-name").filter({ hasText: "Order Placement" })).toHaveCount(1);
  await expect(timeline.locator(".lane-name").filter({ hasText: /^order$/ })).toHaveCount(0);
  await expect(timeline.locator('.bar-failed[data-lane="fulfillment"]')).toHaveCount(1);
  await expect(timeline.locator('.bar-compensated[data-lane="payment"]')).toHaveCount(1);
  await expect(timeline.locator('.bar-compensated[data-lane="order"]')).toHaveCount(1);
  await expect(timeline.locator('.bar-succeeded[data-lane="payment"] title')).toHaveText(/^payment attempt 1 succeeded: \+\d+ ms → \+\d+ ms \(\d+ ms\)$/);
  await page.getByRole("tab", { name: "Summary" }).click();
  const commands = Number(await page.getByLabel("Commands", { exact: true }).innerText());
  await page.getByRole("tab", { name: "Timeline" }).click();
  await expect(timeline.locator("line.arrow-command")).toHaveCount(commands);
  // Zooming in doubles the time axis (the width past the names column and the margin).
  const axis = async () => Number(await timeline.getAttribute("width")) - 130 - 40;
  const before = await axis();
  expect(before).toBeGreaterThan(700);
  await page.getByRole("button", { name: "Timeline zoom in" }).click();
  await expect.poll(axis).toBeCloseTo(2 * before, 0);

  // An expired card takes the failure routes: they light up, the fulfillment route does not.
  await page.getByRole("textbox", { name: "Run input" }).fill('{"card": "expired"}');
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Connection" })).toHaveText("Complete");
  await expect(edge("payment", "notify-rejected")).toHaveClass(/failure.*traversed|traversed.*failure/);
  await expect(edge("payment", "order-rejected")).toHaveClass(/traversed/);
  await expect(edge("payment", "fulfillment")).not.toHaveClass(/traversed/);
});

test("the orchestrator drawn as a hub: a spoke to each commanded step, commands and replies travel through it", async ({ page }) => {
  await freshOrderProcessing(page);
  const toggle = page.getByRole("button", { name: "Show the orchestrator" });
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  await expect(page.locator(".orchestrator-hub")).toHaveCount(0);
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator(".spoke")).toHaveCount(2); // charge and confirm are commanded
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("0.25");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.locator('.pulse-command mpath[href^="#spoke-"]').first()).toBeAttached();
  await expect(page.locator('.pulse-reply mpath[href^="#spoke-"]').first()).toBeAttached();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 15_000 });
  await expect(page.getByRole("img", { name: /^Orchestrator: [1-9]\d* messages$/ })).toBeVisible();
  await toggle.click();
  await expect(page.locator(".orchestrator-hub")).toHaveCount(0);
});

test("the summary says what happened: a handled rejection, a saga, an outage, a lost event", async ({ page }) => {
  await fromTemplate(page, "E-commerce with two failures, orchestrated", `Story ${Date.now()}`);
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("10");
  const input = page.getByRole("textbox", { name: "Run input" });
  const story = page.getByRole("list", { name: "What happened" }).getByRole("listitem");
  const run = async (json: string, ends: string) => {
    await input.fill(json);
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await expect(page.getByRole("status", { name: "Run state" })).toHaveText(ends);
  };

  // The card is refused: the failure route handles it and the run completes.
  await run('{"card": "expired"}', "Run completed");
  await expect(story).toHaveText([
    'Payment failed (card = "expired") → handled by the failure route to Notify payment rejected, Update order (rejected)',
    "Completed",
  ]);
  // Out of stock: no route, so the orchestrator's saga undoes what it did, newest first.
  await run('{"stock": "none"}', "Run compensated");
  await expect(story).toHaveText([
    'Fulfillment failed (stock = "none") → the orchestrator undid what it had done (a saga)',
    "Compensated, in reverse order: Payment (refund), Order Placement (cancel)",
    "Ended compensated: the saga undid the steps that had succeeded",
  ]);
  // The API's run report tells the same story, each sentence with a stable code.
  const runId = new URL(page.url()).searchParams.get("run");
  const report = await (await page.request.get(`/api/runs/${runId}`, AS_A_BROWSER)).json();
  expect(report.story.map((l: { code: string }) => l.code)).toEqual([
    "failure_handled_by_saga",
    "compensated",
    "run_compensated",
  ]);
  // The runs list shows each run's input and its outcome in one line, newest first.
  await page.getByRole("tab", { name: "Runs" }).click();
  const rows = page.getByRole("list", { name: "Runs" }).getByRole("button");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0).locator(".run-input")).toHaveText('input {"stock":"none"}');
  await expect(rows.nth(0).locator(".run-outcome")).toHaveText(
    'Fulfillment failed (stock = "none") → the orchestrator undid what it had done (a saga)',
  );
  await expect(rows.nth(1).locator(".run-input")).toHaveText('input {"card":"expired"}');
  await expect(rows.nth(1).locator(".run-outcome")).toHaveText(/^Payment failed \(card = "expired"\) → handled by the failure route/);
  await page.getByRole("tab", { name: "Summary" }).click();

  // The orchestrator is down for 2 s (simulated) from 10 ms in: the story says so.
  await input.fill("{}");
  await page.getByText("Faults (break things)").click();
  const faults = page.locator("details.run-faults");
  await faults.getByRole("textbox", { name: "Crash at" }).fill("10");
  await faults.getByRole("textbox", { name: "Crash for" }).fill("2000");
  await run("{}", "Run completed");
  await expect(story).toHaveText([/^Orchestrator down 2\.0 s: \d+ messages? waited for it; it restarted$/, "Completed"]);

  // The choreographed design on a bus that loses every event: the run stalls, and the
  // story names the event that was lost.
  await page
    .getByRole("navigation", { name: "Workflows" })
    .getByRole("button", { name: "Use template E-commerce with two failures, choreographed" })
    .click();
  await page.getByRole("textbox", { name: "Workflow name" }).fill(`Story lost ${Date.now()}`);
  await faults.getByRole("textbox", { name: "Crash for" }).fill("");
  await faults.getByRole("textbox", { name: "Drop %" }).fill("100");
  await run("{}", "Run failed");
  await expect(story.first()).toHaveText("The bus lost OrderPlaced from Order Placement on its way to Payment");
  // The diagnosis is said once, on the status line; the story ends with the outcome.
  await expect(story.last()).toHaveText("The run stalled: it waited for an event the bus lost, above");
  await expect(page.getByRole("status", { name: "Diagnosis" })).toContainText("OrderPlaced");
});
