import { test, expect, type Page } from "@playwright/test";
import { openEditor, fromMenu, fromTemplate } from "./helpers";

const edges = (page: Page, kind: "command" | "event") => page.locator(`g.edge-group.${kind}`);

test("convert the e-commerce template both ways: the copy says what it lost", async ({ page }) => {
  const name = `Shop ${Date.now()}`;
  await fromTemplate(page, "E-commerce with two failures, orchestrated", name);
  const original = page.url();

  // Orchestrated → all choreography: the saga has no equivalent, and the dialog says so.
  await fromMenu(page, "Convert…");
  const dialog = page.getByRole("dialog", { name: "Convert" });
  await dialog.getByRole("radio", { name: "All choreography" }).check();
  const lost = dialog.getByRole("list", { name: "What the copy loses" });
  await expect(lost).toContainText(
    "saga over Order Placement, Payment no longer runs when Fulfillment fails: nobody compensates on FulfillmentFailed",
  );
  await dialog.getByRole("button", { name: "Create the copy" }).click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue(`${name} (as choreography)`);
  await expect(page).not.toHaveURL(original);
  await expect(edges(page, "command")).toHaveCount(0);
  await expect(edges(page, "event")).toHaveCount(5);
  // The same warning stays on the copy, with the editor's lint.
  await expect(page.getByRole("region", { name: "Problems" })).toContainText("saga over Order Placement, Payment no longer runs");

  // The choreographed template → all orchestration loses nothing.
  await fromTemplate(page, "E-commerce with two failures, choreographed", `${name} events`);
  await fromMenu(page, "Convert…");
  await dialog.getByRole("radio", { name: "All orchestration" }).check();
  await expect(lost).toHaveText("Nothing: every failure stays handled.");
  await expect(dialog).toContainText("8 edges change kind.");
  await dialog.getByRole("button", { name: "Create the copy" }).click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue(`${name} events (as orchestration)`);
  await expect(edges(page, "event")).toHaveCount(0);
  await expect(edges(page, "command")).toHaveCount(8);
});

test("the lab compares the three styles, reads the numbers, and fails every step in turn", async ({ page }) => {
  await fromTemplate(page, "E-commerce with two failures, orchestrated", `Lab ${Date.now()}`);
  await fromMenu(page, "Lab");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Trade-off lab: Lab ");

  // A bad field is named, and nothing starts.
  await page.getByRole("textbox", { name: "Runs per style" }).fill("0");
  await page.getByRole("button", { name: "Compare" }).click();
  await expect(page.getByRole("alert")).toHaveText("Runs per style: from 1 to 5000");

  await page.getByRole("textbox", { name: "Input" }).fill('{"stock": "none"}');
  await page.getByRole("textbox", { name: "Runs per style" }).fill("20");
  await page.getByRole("textbox", { name: "Seed" }).fill("3");
  await page.getByRole("button", { name: "Compare" }).click();
  await expect(page.getByText("Batch done")).toBeVisible();
  await expect(page.getByRole("progressbar", { name: "choreography progress" })).toHaveAttribute("value", "20");

  const table = page.getByRole("table", { name: "Comparison" });
  const row = (label: string) => table.getByRole("row", { name: new RegExp(`^${label}`) });
  await expect(row("Compensated").getByRole("cell")).toHaveText(["20", "20", "0"]);
  await expect(row("of which inconsistent").getByRole("cell")).toHaveText(["0", "0", "20"]);
  await expect(row("Events").getByRole("cell").first()).toHaveText("0");
  await expect(row("Through the orchestrator").getByRole("cell").nth(2)).toHaveText("0 (0%)");
  await expect(page.getByRole("list", { name: "Reading" })).toContainText(
    "choreography: 20/20 runs ended with a failure nobody handled (20 left steps done and never undone)",
  );
  // The headline comes first; then the charts, each with the three styles on one axis.
  await expect(page.getByRole("list", { name: "Reading" }).getByRole("listitem").first()).toHaveClass("headline");
  const charts = page.getByRole("group", { name: "At a glance" });
  const outcomes = charts.getByRole("img", { name: "How 20 runs ended" });
  await expect(outcomes.getByRole("img", { name: "orchestration: succeeded 0 · handled or compensated 20 · unhandled 0" })).toBeVisible();
  await expect(outcomes.getByRole("img", { name: "choreography: succeeded 0 · handled or compensated 0 · unhandled 20" })).toBeVisible();
  // 20 handled and 20 unhandled runs: bars of one length on the shared axis.
  const barWidth = async (style: string, kind: string) =>
    (await outcomes.getByRole("img", { name: new RegExp(`^${style}:`) }).locator(`rect.${kind}`).boundingBox())!.width;
  expect(await barWidth("orchestration", "handled")).toBeCloseTo(await barWidth("choreography", "bad"), 0);
  await expect(charts.getByRole("img", { name: /^Latency/ })).toBeVisible();
  await expect(charts.getByRole("img", { name: "Messages per run" }).getByRole("img", { name: /^choreography: commands 0 · replies 0 · event deliveries [1-9]/ })).toBeVisible();
  // The hop cost is modelled by default (10 ms per message, as in lesson 3), and said.
  await expect(page.getByRole("textbox", { name: "Hop cost: orchestrator ms per message" })).toHaveValue("10");
  await expect(page.getByRole("list", { name: "Reading" })).toContainText(
    /the hop cost is modelled: the orchestrator spends 10 ms on each message it handles, so every reply costs a run that long \(as drawn [\d.]+ replies per run, about \d+ ms, orchestration [\d.]+ replies per run, about \d+ ms, choreography 0.0 replies per run, about 0 ms\)/,
  );

  const matrix = page.getByRole("table", { name: "Fail at every step" });
  const fulfillment = matrix.getByRole("row", { name: /^Fulfillment/ }).getByRole("cell");
  await expect(fulfillment.nth(0)).toContainText("↺ compensated");
  await expect(fulfillment.nth(2)).toContainText("⚠ inconsistent");
  // "N changed" is said in words beside the matrix and over each cell.
  await expect(page.getByText("“N changed”: how many other steps ended differently")).toBeVisible();
  await expect(fulfillment.nth(2)).toHaveAttribute("title", /^\d+ other steps? ended differently than without this failure/);
  const payment = matrix.getByRole("row", { name: /^Payment/ }).getByRole("cell");
  await expect(payment).toContainText(["✓ handled", "✓ handled", "✓ handled"]);

  // Coupling: orchestrated, a service knows only the orchestrator; choreographed, the events.
  const coupling = page.getByRole("table", { name: "Coupling" }).getByRole("row", { name: /^PaymentService/ }).getByRole("cell");
  await expect(coupling.nth(0)).toHaveText("orchestrator");
  await expect(coupling.nth(2)).toHaveText("OrderPlacementCompleted, PaymentCompleted, PaymentFailed");

  // The same seed gives the same table; the batch is listed.
  const first = await table.innerText();
  await page.getByRole("button", { name: "Compare" }).click();
  await expect(page.getByText("Batch done")).toBeVisible();
  await expect(page.getByRole("region", { name: "Earlier batches" }).getByRole("button")).toHaveCount(2);
  expect(await table.innerText()).toBe(first);
});

test("crash the orchestrator mid-run: the event-driven part goes on, the commanded part waits and resumes", async ({ page }) => {
  await openEditor(page);
  await fromMenu(page, "Import…");
  const step = (id: string, latency: number) =>
    ({ id, label: id.toUpperCase(), service: `${id}Service`, action: "go", latency_ms: latency });
  await page.getByRole("textbox", { name: "Text to import" }).fill(
    JSON.stringify({
      name: `Crash ${Date.now()}`,
      nodes: [step("a", 100), step("b", 1500), step("c", 100), step("x", 200), step("y", 200)],
      edges: [
        { from: "a", to: "b", kind: "command" },
        { from: "b", to: "c", kind: "command" },
        { from: "a", to: "x", kind: "event", event: "ADone" },
        { from: "x", to: "y", kind: "event", event: "XDone" },
      ],
    }),
  );
  await page.getByRole("dialog", { name: "Import" }).getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");

  await page.getByRole("button", { name: "Run", exact: true }).click();
  const state = (id: string) => page.locator(`[data-node-id="${id}"]`);
  await expect(state("b")).toHaveAttribute("data-state", "running");
  await page.getByRole("button", { name: "Crash orchestrator" }).click();
  await expect(page.getByRole("status", { name: "Orchestrator load" })).toContainText("orchestrator DOWN");
  // Events keep flowing while the orchestrator is down…
  await expect(state("y")).toHaveAttribute("data-state", "succeeded");
  // …b does its work, but its reply waits for the orchestrator: c is not commanded yet.
  await expect(state("b")).toHaveAttribute("data-state", "succeeded");
  await expect(state("b").locator(".node-state")).toHaveText(/succeeded · reply waiting/);
  await expect(state("x").locator(".node-state")).not.toContainText("reply waiting");
  await expect(state("c")).toHaveAttribute("data-state", "pending");
  await expect(page.getByRole("status", { name: "Orchestrator load" })).toContainText("orchestrator DOWN");
  // Back after 3 s: b's reply is handled and c runs.
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed", { timeout: 15_000 });
  await expect(state("c")).toHaveAttribute("data-state", "succeeded");
  await expect(state("b").locator(".node-state")).not.toContainText("reply waiting");
  await expect(page.getByRole("status", { name: "Orchestrator load" })).not.toContainText("DOWN");

  await page.getByRole("tab", { name: "Log" }).click();
  const log = page.getByRole("list", { name: "Run log" });
  await expect(log).toContainText("orchestrator crashed (down 3000 ms): commands and replies wait");
  await expect(log).toContainText(/orchestrator back after 3000 ms: rebuilt from \d+ history records, 1 waiting message handled/);
  await page.getByRole("tab", { name: "Timeline" }).click();
  await expect(page.locator("svg.timeline rect.fault-outage")).toHaveCount(1);
});

test("a commanded attempt that fails while the orchestrator is down shows at once; its retry waits for it", async ({ page }) => {
  await openEditor(page);
  await fromMenu(page, "Import…");
  await page.getByRole("textbox", { name: "Text to import" }).fill(
    JSON.stringify({
      name: `Crash retry ${Date.now()}`,
      nodes: [
        { id: "a", label: "A", service: "aService", action: "go", latency_ms: 100 },
        { id: "f", label: "F", service: "fService", action: "go", latency_ms: 1500, fail_when: { field: "fail", equals: true }, retry: { max_attempts: 2 } },
      ],
      edges: [{ from: "a", to: "f", kind: "command" }],
    }),
  );
  await page.getByRole("dialog", { name: "Import" }).getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await page.getByRole("textbox", { name: "Run input" }).fill('{"fail": true}');
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const f = page.locator('[data-node-id="f"]');
  await expect(f).toHaveAttribute("data-state", "running");
  await page.getByRole("button", { name: "Crash orchestrator" }).click();
  // F's service fails during the outage: that shows, but nobody decides to retry yet.
  await expect(f.locator(".node-state")).toHaveText(/attempt 1 failed · reply waiting/);
  await expect(f).toHaveClass(/reply-waiting/);
  // Back: the orchestrator retries, attempt 2 fails too, and the run fails.
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run failed", { timeout: 15_000 });
  await expect(f.locator(".node-state")).toHaveText(/failed · attempt 2/);
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(page.getByRole("list", { name: "Run log" })).toContainText(/orchestrator back after 3000 ms: rebuilt from \d+ history records, 1 waiting message handled/);
});

test("load mode: with one orchestrator of small capacity, orchestration falls behind and choreography keeps up", async ({ page }) => {
  await openEditor(page);
  await fromMenu(page, "Import…");
  const step = (id: string) => ({ id, label: id.toUpperCase(), service: `${id}Service`, action: "go", latency_ms: 0 });
  await page.getByRole("textbox", { name: "Text to import" }).fill(
    JSON.stringify({
      name: `Load ${Date.now()}`,
      nodes: [step("a"), step("b"), step("c")],
      edges: [
        { from: "a", to: "b", kind: "command" },
        { from: "b", to: "c", kind: "command" },
      ],
    }),
  );
  await page.getByRole("dialog", { name: "Import" }).getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await fromMenu(page, "Lab");

  const load = page.getByRole("region", { name: "Load" });
  await load.getByRole("textbox", { name: "Rate (runs/s)" }).fill("50");
  await load.getByRole("textbox", { name: "Seconds" }).fill("1");
  await load.getByRole("textbox", { name: "Orchestrator capacity" }).fill("1");
  await load.getByRole("textbox", { name: "Orchestrator ms per message" }).fill("20");
  await load.getByRole("button", { name: "Start load" }).click();
  await expect(load.getByText("Load test running")).toBeVisible();
  await expect(load.getByText("Load test done")).toBeVisible({ timeout: 30_000 });
  const reading = load.getByRole("list", { name: "Load reading" });
  // One headline before the curves, then a line per style.
  await expect(reading.getByRole("listitem").first()).toHaveText("at 50 runs/s, as drawn, orchestration fell behind while choreography kept up");
  await expect(reading.getByRole("listitem").nth(2)).toContainText(/^orchestration: 50 of 50 runs completed; .*it fell behind: a bottleneck/);
  await expect(reading.getByRole("listitem").nth(3)).toContainText(/^choreography: 50 of 50 runs completed; .*it kept up.*at most 0 messages waited/);
  await expect(load.getByRole("figure", { name: "Load orchestration" }).getByRole("img", { name: "p95 latency (ms)" })).toBeVisible();

  // Stored: after a reload the test is listed, and a click opens its curves and reading again.
  await page.reload();
  const earlier = page.getByRole("region", { name: "Earlier load tests" });
  const item = earlier.getByRole("button", { name: /50 runs\/s × 1 s, capacity 1, 20 ms per message — done/ });
  await expect(item).toHaveCount(1);
  await expect(load.getByRole("list", { name: "Load reading" })).toHaveCount(0);
  await item.click();
  await expect(reading.getByRole("listitem").nth(2)).toContainText(/^orchestration: 50 of 50 runs completed; .*it fell behind: a bottleneck/);
});

test("a run started with a service down shows the fault in its log and ends as the style dictates", async ({ page }) => {
  await fromTemplate(page, "E-commerce with two failures, orchestrated", `Down ${Date.now()}`);
  await page.getByText("Faults (break things)").click();
  const faults = page.locator("details.run-faults");
  await faults.getByRole("combobox", { name: "Service" }).selectOption("FulfillmentService");
  await faults.getByRole("checkbox", { name: "Down" }).check();
  await faults.getByRole("textbox", { name: "Drop %" }).fill("150");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  // Said at once beside the field, and by Run, in the percent the field shows.
  await expect(faults.getByText("Drop %: between 0 and 100 %, not 150")).toBeVisible();
  await expect(page.locator(".failure[role=alert]")).toContainText("faults: Drop %: between 0 and 100 %, not 150");
  await faults.getByRole("textbox", { name: "Drop %" }).fill("");
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("10");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  // Fulfillment is down: the orchestrator's saga undoes Payment and Order Placement.
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run compensated");
  await expect(page.locator('[data-node-id="payment"]')).toHaveAttribute("data-state", "compensated");
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(page.getByRole("list", { name: "Run log" })).toContainText("with faults: FulfillmentService down");
  await expect(page.getByRole("list", { name: "Run log" })).toContainText("Fulfillment failed after 1 attempt: service down");
});

test("the load test's defaults come from the flow's shape and show the bottleneck and the hop", async ({ page }) => {
  test.setTimeout(120_000);
  await fromTemplate(page, "E-commerce with two failures, orchestrated", `Defaults ${Date.now()}`);
  await fromMenu(page, "Lab");
  const load = page.getByRole("region", { name: "Load" });
  await expect(load.locator(".load-defaults")).toContainText(
    "a run commands 4 steps when nothing fails, so one orchestrator handling 4 messages at once at 10 ms each takes at most 100 runs/s; 150 runs/s is more than it can take",
  );
  await expect(load.getByRole("textbox", { name: "Rate (runs/s)" })).toHaveValue("150");
  await expect(load.getByRole("textbox", { name: "Orchestrator capacity" })).toHaveValue("4");
  await expect(load.getByRole("textbox", { name: "Orchestrator ms per message" })).toHaveValue("10");
  await load.getByRole("button", { name: "Start load" }).click();
  await expect(load.getByText("Load test done")).toBeVisible({ timeout: 90_000 });
  const reading = load.getByRole("list", { name: "Load reading" }).getByRole("listitem");
  await expect(reading.first()).toHaveClass("headline");
  await expect(reading.nth(2)).toContainText(/^orchestration: \d+ of \d+ runs completed; .*it fell behind: a bottleneck/);
  await expect(reading.nth(3)).toContainText(/^choreography: \d+ of \d+ runs completed; .*it kept up/);
  // The hop: each message through the orchestrator costs, so even its first second is slower.
  const firstP95 = async (n: number) => Number((await reading.nth(n).innerText()).match(/p95 latency (\d+) ms in the first second/)![1]);
  expect(await firstP95(2)).toBeGreaterThan(await firstP95(3));
});

test("convert a decision to choreography with every subscriber filtering: the rule in three services", async ({ page }) => {
  await fromTemplate(page, "Payment approved or declined by amount", `Amounts ${Date.now()}`);
  await expect(page.locator("g.edge-group .edge-label").filter({ hasText: "[amount > 1000]" })).toHaveCount(1);
  await fromMenu(page, "Convert…");
  const dialog = page.getByRole("dialog", { name: "Convert" });
  await dialog.getByRole("radio", { name: "All choreography" }).check();
  const moved = dialog.getByRole("list", { name: "Where each decision and wait goes" });
  // By default the publisher decides: an event per branch.
  await expect(moved).toHaveText(
    "The rule after Authorize payment moved into PaymentService: it publishes a different event per branch (AuthorizepaymentToNotifydeclined, AuthorizepaymentToManualreview, AuthorizepaymentCompleted).",
  );
  await dialog.getByRole("radio", { name: "Every subscriber filters one event" }).check();
  await expect(moved).toHaveText(
    "The rule after Authorize payment is now in every subscriber: NotificationService, RiskService, ShippingService each check it, so 3 services change when it changes.",
  );
  await dialog.getByRole("button", { name: "Create the copy" }).click();
  await expect(edges(page, "event")).toHaveCount(3);
  await expect(page.locator("g.edge-group .edge-label").filter({ hasText: "[filter: !(!approved) && (amount > 1000)]" })).toHaveCount(1);
});

test("verify the choreographed e-commerce saga: the shortest schedule that leaves an order half done opens as a run; orchestrated, none", async ({ page }) => {
  await fromTemplate(page, "E-commerce with two failures, choreographed", `Verify ${Date.now()}`);
  await fromMenu(page, "Lab");
  await page.getByRole("button", { name: "Verify every schedule" }).click();
  await expect(page.getByText("Batch done")).toBeVisible();
  // Progress in schedules explored (no total is known in advance).
  const choreography = page.getByRole("region", { name: "Progress" }).locator(".progress-row").filter({ hasText: "choreography" });
  await expect(choreography.locator(".count")).toHaveText(/^\d+ schedules$/);

  const verification = page.getByRole("region", { name: "Verification" });
  const drawn = verification.getByRole("article").first();
  await expect(drawn.locator(".headline")).toContainText(/^\d+ of \d+ schedules break an invariant\. Shortest, against “/);
  const halfDone = drawn.getByRole("listitem").filter({ hasText: "nothing is left half done" });
  await expect(halfDone.locator(".story")).toContainText("fails (attempt 1)");
  await expect(verification.getByRole("article", { name: "orchestration" }).locator(".headline")).toHaveText(
    /^No schedule breaks an invariant \(\d+ schedules, \d+ distinct histories\)\.$/,
  );
  // What the search did: the same count of schedules as the headline, its time and rate,
  // what the reduction saved; and what no schedule exercised, by the steps' labels.
  const schedules = (await drawn.locator(".headline").textContent())!.match(/of (\d+) schedules/)![1];
  await expect(drawn.locator(".figures")).toHaveText(
    new RegExp(`^${schedules} schedules, \\d+ distinct histories in [\\d.]+ m?s \\(\\d+ histories/s\\); [1-9]\\d* orders of the same faults run once, not again$`),
  );
  await expect(drawn.locator(".coverage")).toContainText(["No schedule ran the undo action of: Order Placement, Payment"]);

  // One click: that exact schedule as a real run, in the editor, pointing at the step
  // whose failure the schedule forced.
  const story = (await halfDone.locator(".story").textContent())!;
  // The faults are said in order, ", then " between them: the last attempt that fails.
  const failed = [...story.split(":")[0].matchAll(/(?:^|, then )(.+?) fails \(attempt \d+\)/g)].pop()![1];
  await halfDone.getByRole("button", { name: "Open as a run" }).click();
  await expect(page).toHaveURL(/\/\?workflow=[^&]+&run=[^&]+&at=/);
  await expect(page.getByRole("status", { name: "Run state" })).not.toHaveText(/running/i);
  const mark = page.getByRole("img", { name: `${failed}: where this run went wrong` });
  await expect(mark).toBeVisible();
  await expect(page.locator("[data-node-id]").filter({ has: mark })).toHaveAttribute("data-state", "failed");
  await expect(page.locator(".broke-here")).toHaveCount(1);

  // Then the flow's own scenarios, in its Tests tab: they pass.
  await page.getByRole("tab", { name: "Tests" }).click();
  await page.getByRole("button", { name: "Run tests" }).click();
  await expect(page.locator(".tests-headline")).toHaveText("All 3 scenarios pass.");
});

test("a schedule that loses an event opens as a run with that edge marked lost and the step it never reached ringed", async ({ page }) => {
  await fromTemplate(page, "E-commerce with two failures, choreographed", `Lost ${Date.now()}`);
  await fromMenu(page, "Lab");
  await page.getByRole("button", { name: "Verify every schedule" }).click();
  await expect(page.getByText("Batch done")).toBeVisible();
  const drawn = page.getByRole("region", { name: "Verification" }).getByRole("article").first();
  const stalls = drawn.getByRole("listitem").filter({ hasText: "every run ends" });
  await expect(stalls.locator(".story")).toContainText("the bus loses ");
  const story = (await stalls.locator(".story").textContent())!;
  const [, event, from, to] = story.match(/the bus lost (\w+) \(message \d+\) from (.+?) to (.+?);/)!;
  expect(story).toContain(`the bus loses ${event} on its way to ${to}`);
  await stalls.getByRole("button", { name: "Open as a run" }).click();
  await expect(page.getByRole("status", { name: "Run state" })).not.toHaveText(/running/i);
  // The edge the event was lost on says so, and only that one.
  const lost = page.getByRole("button", { name: /the bus lost the event here/ });
  await expect(lost).toHaveCount(1);
  await expect(lost).toHaveAttribute("aria-label", `event edge from ${from} to ${to} — the bus lost the event here`);
  await expect(lost.locator(".lost-mark")).toBeVisible();
  // The step it was on its way to: ringed, never reached.
  const mark = page.getByRole("img", { name: `${to}: where this run went wrong` });
  await expect(mark).toBeVisible();
  const step = page.locator("[data-node-id]").filter({ has: mark });
  await expect(step.locator(".node-state")).toHaveText("⊘ never reached");
});
