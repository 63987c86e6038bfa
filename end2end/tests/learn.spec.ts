// The Learn page: each lesson's one button runs its experiment through the lab and points
// at the numbers that prove the claim — checked here against the lab's own results.
import { test, expect, type APIRequestContext, type Locator } from "@playwright/test";
import { AS_A_BROWSER, openEditor } from "./helpers";

type Style = { style: string; latency_ms: { p50: number }; outcomes: Record<string, number>; orchestrator_messages: number; runs: number; coupling: { orchestrator_knows: number; event_contracts: number; services: { knows: string[] }[] } };
type Batch = { runs: number; result: { styles: Style[]; matrix: { rows: { cells: { style: string; reached: boolean; blast_radius: number }[] }[] } } };
type Load = { request: { rate: number }; styles: { style: string; throughput: number; peak_waiting: number; latency_ms: { p50: number } }[] };

/** Runs a lesson's experiment; its finished parts as the lab's API returns them. */
async function runLesson(card: Locator, request: APIRequestContext): Promise<any[]> {
  await card.getByRole("button", { name: "▶ Run the experiment" }).click();
  const result = card.getByRole("status");
  await expect(result.locator("[data-figure]").first()).toBeVisible({ timeout: 60_000 });
  // The finding is said in a sentence, with every figure named.
  const sentence = (await result.locator(".finding-sentence").innerText()).trim();
  expect(sentence.length, "a finding sentence").toBeGreaterThan(40);
  expect(sentence).not.toContain("{{");
  expect(sentence).toMatch(/[.。다]$/);
  for (const label of await result.locator("[data-figure] dt").all()) {
    expect((await label.innerText()).trim().length, "a figure's label").toBeGreaterThan(3);
  }
  const parts = (await result.getAttribute("data-parts"))!.split(" ");
  return Promise.all(
    parts.map(async (part) => {
      const [kind, id] = part.split(":");
      const response = await request.get(kind === "batch" ? `/api/lab/batches/${id}` : `/api/lab/loads/${id}`, AS_A_BROWSER);
      expect(response.ok()).toBeTruthy();
      return response.json();
    }),
  );
}

async function figure(card: Locator, id: string): Promise<number> {
  const value = await card.locator(`[data-figure="${id}"]`).getAttribute("data-value");
  expect(value, `figure ${id}`).not.toBeNull();
  return Number(value);
}

const of = (b: Batch, style: string) => b.result.styles.find((s) => s.style === style)!;

test("the lessons are reachable from the home page", async ({ page }) => {
  await openEditor(page);
  await page.getByRole("navigation", { name: "Workflows" }).getByRole("link", { name: "Learn" }).click();
  await expect(page).toHaveURL(/\/learn$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Orchestration and choreography, measured");
  const index = page.getByRole("navigation", { name: "Lessons" }).getByRole("link");
  await expect(index).toHaveCount(12);
  await index.nth(3).click();
  await expect(page).toHaveURL(/#errors$/);
  // The article's examples are one click away: the template opens in the editor, read-only.
  await page.locator("section#errors").getByRole("button", { name: "Open E-commerce with two failures, orchestrated in the editor" }).click();
  await expect(page).toHaveURL(/\/\?workflow=template-ecommerce-orchestrated$/);
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("E-commerce with two failures, orchestrated");
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Template (read-only): your first edit makes your own copy");
  await expect(page.getByRole("complementary", { name: "What to try" })).toBeVisible();
});

test("each lesson's button runs its experiment and shows the lab's proving numbers", async ({ page, request }) => {
  test.setTimeout(300_000);
  await page.goto("/learn");
  const card = (key: string) => page.locator(`section#${key}`);

  // 1. Single point of failure: commands wait for the orchestrator, events flow; a
  // standby shortens the outage.
  {
    const [crashed, standby] = (await runLesson(card("single_point"), request)) as Batch[];
    const orchestration = await figure(card("single_point"), "orchestration_p50");
    const choreography = await figure(card("single_point"), "choreography_p50");
    expect(orchestration).toBe(of(crashed, "orchestration").latency_ms.p50);
    expect(choreography).toBe(of(crashed, "choreography").latency_ms.p50);
    expect(await figure(card("single_point"), "standby_p50")).toBe(of(standby, "orchestration").latency_ms.p50);
    expect(orchestration).toBeGreaterThan(choreography + 2_000);
    expect(await figure(card("single_point"), "standby_p50")).toBeLessThan(orchestration);
    await expect(card("single_point").locator(".finding-sentence")).toContainText(orchestration.toLocaleString("en-GB"));
  }

  // The contents list each lesson once, numbered by its title only.
  const index = page.getByRole("navigation", { name: "Lessons" });
  await expect(index.getByRole("link").first()).toHaveText(/^1\. /);
  expect(await index.locator("li").first().evaluate((li) => getComputedStyle(li).listStyleType)).toBe("none");

  // 2. Bottleneck: orchestration falls behind the rate, choreography keeps up; a long
  // experiment shows how far it is.
  {
    const progress = card("bottleneck").getByRole("progressbar", { name: /^Running: \d+ % done$/ }).waitFor({ timeout: 30_000 });
    const [load] = (await runLesson(card("bottleneck"), request)) as Load[];
    await progress;
    const styleOf = (s: string) => load.styles.find((x) => x.style === s)!;
    const orchestration = await figure(card("bottleneck"), "orchestration_throughput");
    const choreography = await figure(card("bottleneck"), "choreography_throughput");
    expect(orchestration).toBe(Math.round(styleOf("orchestration").throughput));
    expect(choreography).toBe(Math.round(styleOf("choreography").throughput));
    expect(await figure(card("bottleneck"), "orchestration_queue")).toBe(styleOf("orchestration").peak_waiting);
    expect(orchestration).toBeLessThan(0.75 * load.request.rate);
    expect(choreography).toBeGreaterThan(1.5 * orchestration);
  }

  // 3. The extra hop: every orchestrated run pays for its messages through the orchestrator.
  {
    const [load] = (await runLesson(card("hop"), request)) as Load[];
    const p50 = (s: string) => load.styles.find((x) => x.style === s)!.latency_ms.p50;
    expect(await figure(card("hop"), "orchestration_p50")).toBe(p50("orchestration"));
    expect(await figure(card("hop"), "choreography_p50")).toBe(p50("choreography"));
    expect(await figure(card("hop"), "hop_cost")).toBe(p50("orchestration") - p50("choreography"));
    expect(await figure(card("hop"), "hop_cost")).toBeGreaterThan(0);
    // The number is explained where it is shown: the replies through the orchestrator.
    expect(await figure(card("hop"), "hop_replies")).toBe(3);
    expect(await figure(card("hop"), "hop_modelled")).toBe(30);
    await expect(card("hop").locator(".finding-sentence")).toContainText("(3 × 10 ms = 30 ms)");
  }

  // 4. Error handling: the saga compensates; converted to events, nobody handles the back order.
  {
    const [card_, stock] = (await runLesson(card("errors"), request)) as Batch[];
    const runs = card_.runs;
    expect(await figure(card("errors"), "card_handled_orchestration")).toBe(of(card_, "orchestration").outcomes.handled);
    expect(await figure(card("errors"), "stock_compensated_orchestration")).toBe(of(stock, "orchestration").outcomes.compensated);
    expect(await figure(card("errors"), "stock_compensated_orchestration")).toBe(runs);
    const broken = ["unhandled", "inconsistent", "stalled"].reduce((n, o) => n + (of(stock, "choreography").outcomes[o] ?? 0), 0);
    expect(await figure(card("errors"), "stock_broken_choreography")).toBe(broken);
    expect(broken).toBeGreaterThan(0);
  }

  // 5. Coupling: the orchestrator knows every service; events are contracts.
  {
    const [batch] = (await runLesson(card("coupling"), request)) as Batch[];
    expect(await figure(card("coupling"), "orchestrator_knows")).toBe(of(batch, "orchestration").coupling.orchestrator_knows);
    expect(await figure(card("coupling"), "event_contracts")).toBe(of(batch, "choreography").coupling.event_contracts);
    expect(await figure(card("coupling"), "service_knows_orchestration")).toBe(1);
    expect(await figure(card("coupling"), "orchestrator_knows")).toBeGreaterThan(1);
  }

  // 6. Visibility: one record to read, or every service on the path and the broker.
  {
    const [batch] = (await runLesson(card("visibility"), request)) as any[];
    const vis = (s: string) => batch.result.styles.find((x: any) => x.style === s).visibility;
    const round = (x: number) => Math.round(x * 10) / 10;
    expect(await figure(card("visibility"), "orchestration_places")).toBe(round(vis("orchestration").state_places));
    expect(await figure(card("visibility"), "choreography_places")).toBe(round(vis("choreography").state_places));
    expect(await figure(card("visibility"), "choreography_logs")).toBe(round(vis("choreography").logs_to_read));
    expect(await figure(card("visibility"), "longest_chain")).toBe(vis("choreography").longest_chain);
    expect(vis("orchestration").logs_to_read).toBe(1);
    expect(vis("choreography").logs_to_read).toBeGreaterThan(2);
    await expect(card("visibility").locator(".finding-sentence")).toContainText(`Orchestrated, the places that hold a run's state: ${await figure(card("visibility"), "orchestration_places")}`);
    await expect(card("visibility").locator('[data-figure="longest_chain"] dt')).not.toBeEmpty();
  }

  // 7. Semantic coupling: more steps, more failure cases.
  {
    const [small, large] = (await runLesson(card("semantic"), request)) as Batch[];
    expect(await figure(card("semantic"), "small_steps")).toBe(small.result.matrix.rows.length);
    expect(await figure(card("semantic"), "large_steps")).toBe(large.result.matrix.rows.length);
    const changed = (b: Batch) =>
      b.result.matrix.rows.flatMap((r) => r.cells).filter((c) => c.style === "orchestration" && c.reached).reduce((n, c) => n + c.blast_radius, 0);
    expect(await figure(card("semantic"), "small_changed")).toBe(changed(small));
    expect(await figure(card("semantic"), "large_changed")).toBe(changed(large));
    expect(large.result.matrix.rows.length).toBeGreaterThan(small.result.matrix.rows.length);
  }

  // 8. Hybrid: the orchestrator handles and knows less than all-orchestrated.
  {
    const [batch] = (await runLesson(card("hybrid"), request)) as Batch[];
    const perRun = (s: Style) => Math.floor(s.orchestrator_messages / s.runs);
    expect(await figure(card("hybrid"), "hybrid_orchestrator_messages")).toBe(perRun(of(batch, "as-drawn")));
    expect(await figure(card("hybrid"), "orchestration_orchestrator_messages")).toBe(perRun(of(batch, "orchestration")));
    expect(perRun(of(batch, "as-drawn"))).toBeLessThan(perRun(of(batch, "orchestration")));
    expect(await figure(card("hybrid"), "hybrid_knows")).toBeLessThan(await figure(card("hybrid"), "orchestration_knows"));
  }

  // 9. Waiting for an intermediate step: the confirmations that never come are compensated
  // orchestrated, stall unwatched on events, and are noticed by a watchdog.
  {
    const [orchestrated, unwatched, watched] = (await runLesson(card("waiting"), request)) as Batch[];
    const drawn = (b: Batch) => of(b, "as-drawn").outcomes;
    expect(await figure(card("waiting"), "orchestrated_compensated")).toBe(drawn(orchestrated).compensated);
    expect(await figure(card("waiting"), "unwatched_stalled")).toBe(drawn(unwatched).stalled);
    expect(await figure(card("waiting"), "watched_handled")).toBe(drawn(watched).handled);
    const never = drawn(orchestrated).compensated;
    expect(never).toBeGreaterThan(0);
    await expect(card("waiting").locator(".finding-sentence")).toContainText(
      `orchestrated the timeout caught ${never} confirmations that never came and compensated the order. On events without a watchdog ${never} runs stalled and nobody was told. With a watchdog ${never} were noticed`,
    );
  }

  // 10. A conditional choice: one place knows the rule orchestrated, one service when the
  // publisher decides, every subscriber when each filters.
  {
    const [orchestrated, filtered] = (await runLesson(card("conditional_choice"), request)) as any[];
    const holders = (b: any, s: string) => b.result.styles.find((x: any) => x.style === s).coupling.rule_holders;
    expect(await figure(card("conditional_choice"), "rule_orchestrator")).toBe(holders(orchestrated, "as-drawn"));
    expect(await figure(card("conditional_choice"), "rule_publisher")).toBe(holders(orchestrated, "choreography"));
    expect(await figure(card("conditional_choice"), "rule_subscribers")).toBe(holders(filtered, "as-drawn"));
    await expect(card("conditional_choice").locator(".finding-sentence")).toHaveText(
      "Orchestrated, 1 party knows the rule: the orchestrator. With the publisher deciding, 1 service knows it. With every subscriber filtering, 3 services know it: change the review limit and 3 services change.",
    );
  }

  // 11. Rely on the input message: lean events cost a query and its wait in every run.
  {
    const [lean, carried] = (await runLesson(card("rely_on_input"), request)) as any[];
    const drawn = (b: any) => b.result.styles.find((x: any) => x.style === "as-drawn");
    expect(await figure(card("rely_on_input"), "lean_queries")).toBe(drawn(lean).messages.queries / drawn(lean).runs);
    expect(await figure(card("rely_on_input"), "lean_queries")).toBe(1);
    expect(await figure(card("rely_on_input"), "carried_queries")).toBe(0);
    expect(await figure(card("rely_on_input"), "lean_p50")).toBe(drawn(lean).latency_ms.p50);
    expect(await figure(card("rely_on_input"), "carried_p50")).toBe(drawn(carried).latency_ms.p50);
    expect(drawn(lean).latency_ms.p50).toBeGreaterThan(drawn(carried).latency_ms.p50);
    await expect(card("rely_on_input").locator(".finding-sentence")).toContainText("On lean events every run sent 1 query");
  }

  // 12. Find the bug: every schedule of the choreographed saga, the shortest that leaves an
  // order half done in words; orchestrated, none.
  {
    const [verified] = (await runLesson(card("find_the_bug"), request)) as any[];
    const of = (s: string) => verified.result.verifications.find((v: any) => v.style === s).exploration;
    const broken = await figure(card("find_the_bug"), "choreographed_broken");
    const schedules = await figure(card("find_the_bug"), "choreographed_schedules");
    expect(broken).toBe(of("as-drawn").broken);
    expect(schedules).toBe(of("as-drawn").schedules);
    expect(broken).toBeGreaterThan(0);
    expect(await figure(card("find_the_bug"), "orchestrated_broken")).toBe(0);
    await expect(card("find_the_bug").locator(".finding-sentence")).toContainText(
      `Choreographed: ${broken.toLocaleString("en-GB")} of ${schedules.toLocaleString("en-GB")} schedules break an invariant. Orchestrated: 0 of `,
    );
    const verdicts = card("find_the_bug").locator(".verdicts > li");
    await expect(verdicts).toHaveCount(2);
    await expect(verdicts.nth(0)).toContainText(/^as drawn: [\d,]+ of [\d,]+ schedules break an invariant\. Shortest, against “.+”: .+/);
    await expect(verdicts.nth(1)).toContainText(/^orchestration: No schedule breaks an invariant \([\d,]+ schedules, [\d,]+ distinct histories\)\.$/);
  }
});
