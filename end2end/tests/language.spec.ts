// Korean and English: picked from Accept-Language on a first visit, switched, remembered;
// `lang` follows; a Korean page keeps no English string of the catalogue.
import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { AS_A_BROWSER, openEditor } from "./helpers";

const catalogue = (locale: string) =>
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "app", "locales", `${locale}.json`), "utf8"));

/** Every English catalogue text that Korean says differently, cut at its arguments. */
function englishOnly(): string[] {
  const out: string[] = [];
  const walk = (en: any, ko: any) => {
    for (const key of Object.keys(en)) {
      if (typeof en[key] === "object") walk(en[key], ko?.[key] ?? {});
      else if (en[key] !== ko?.[key])
        out.push(...String(en[key]).split(/\{\{\s*\w+\s*\}\}/).map((s) => s.trim()).filter((s) => s.length >= 6));
    }
  };
  walk(catalogue("en"), catalogue("ko"));
  return out;
}

/** `phrase` stands in `text` as words of its own (so "Service" is not found in the
 * workflow's own "PaymentService"). */
function standsIn(text: string, phrase: string): boolean {
  const escaped = phrase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}($|[^\\p{L}\\p{N}])`, "u").test(text);
}

/** Every word `selector` shows or says — its text (hidden parts too) and its labels,
 * titles and placeholders — but the names of keys (`<kbd>Delete</kbd>`, "… (Ctrl+S)"),
 * which a Korean keyboard labels in English too, and the names of the user's workflows. */
async function shown(page: Page, selector: string): Promise<{ text: string; attributes: string }> {
  const keys = /\((?:(?:Ctrl|Shift|Alt)\+)*[A-Za-z+\-]+\)/g;
  const text = await page.locator(selector).evaluateAll((els) =>
    els
      .map((el) => {
        const copy = el.cloneNode(true) as Element;
        // Keys, and the names of the user's own workflows (other tests' data among them).
        copy.querySelectorAll("kbd, script, style, nav.workflows .name").forEach((k) => k.remove());
        return copy.textContent ?? "";
      })
      .join("\n"),
  );
  const attributes = await page.locator(`${selector}, ${selector} *`).evaluateAll((els) =>
    els.flatMap((el) => ["aria-label", "title", "placeholder"].map((a) => el.getAttribute(a) ?? "")).join("\n"),
  );
  const names = await page.locator("nav.workflows .name").allTextContents();
  const without = (s: string) => names.reduce((s, name) => s.split(name).join(""), s.replace(keys, ""));
  return { text: without(text), attributes: without(attributes) };
}

async function expectNoEnglish(page: Page, selector: string) {
  const { text, attributes } = await shown(page, selector);
  const left = englishOnly().filter((s) => standsIn(text, s) || standsIn(attributes, s));
  expect(left, `English left in ${selector}`).toEqual([]);
}

test.describe("a Korean browser", () => {
  test.use({ locale: "ko-KR" });

  test("gets Korean on the first visit: the editor's column, the introduction and the lessons", async ({ page }) => {
    await page.goto("/");
    await expect(page.locator("html")).toHaveAttribute("lang", "ko");
    const column = page.getByRole("navigation", { name: "워크플로" });
    await expect(column).toHaveAttribute("aria-busy", "false");
    await expect(column.getByRole("heading", { name: "템플릿" })).toBeVisible();
    await column.getByRole("button", { name: "새 워크플로" }).click();
    await expect(page.getByRole("complementary", { name: "여기서 시작하세요" })).toBeVisible();
    await expectNoEnglish(page, "nav.workflows");
    await expectNoEnglish(page, "aside.intro");

    await column.getByRole("link", { name: "배우기" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("오케스트레이션과 코레오그래피, 측정으로 보기");
    const coupling = page.locator("section#coupling");
    await coupling.getByRole("button", { name: "▶ 실험 실행" }).click();
    await expect(coupling.locator(".finding-sentence")).toContainText("오케스트레이터는 서비스");
    // The lessons of the article's decision framework speak Korean too.
    const choice = page.locator("section#conditional_choice");
    await choice.getByRole("button", { name: "▶ 실험 실행" }).click();
    await expect(choice.locator(".finding-sentence")).toHaveText(
      "오케스트레이션에서는 규칙을 아는 곳이 1곳, 오케스트레이터뿐입니다. 발행자가 결정하면 서비스 1개가 압니다. 모든 구독자가 거르면 서비스 3개가 압니다. 검토 한도를 바꾸면 서비스 3개를 고쳐야 합니다.",
    );
    const waiting = page.locator("section#waiting");
    await waiting.getByRole("button", { name: "▶ 실험 실행" }).click();
    await expect(waiting.locator(".finding-sentence")).toContainText("오케스트레이션에서는 타임아웃이 오지 않은 확인");
    const input = page.locator("section#rely_on_input");
    await input.getByRole("button", { name: "▶ 실험 실행" }).click();
    await expect(input.locator(".finding-sentence")).toContainText("데이터가 모자란 이벤트에서는 실행마다 조회가 1번 있었고");
    const bug = page.locator("section#find_the_bug");
    await expect(bug.getByRole("heading", { level: 2 })).toHaveText("12. 버그 찾기: 모든 실패와 순서 바뀜을 검사");
    await bug.getByRole("button", { name: "▶ 실험 실행" }).click();
    await expect(bug.locator(".finding-sentence")).toContainText("코레오그래피: 일정 ");
    await expect(bug.locator(".verdicts > li").nth(0)).toContainText("개가 불변식을 깹니다. “");
    await expect(bug.locator(".verdicts > li").nth(1)).toContainText("오케스트레이션: ");
    await expectNoEnglish(page, "main.learn");
  });
});

test.describe("a Korean template", () => {
  test.use({ locale: "ko-KR" });

  test("shows its steps, services and events in Korean, while ids and the engine's names stay", async ({ page }) => {
    await page.goto("/");
    await page.evaluate(() => localStorage.setItem("hybridflow.intro-dismissed", "1"));
    await page.goto("/?workflow=template-ecommerce-choreographed");
    const payment = page.locator('[data-node-id="payment"]');
    await expect(payment.locator(".node-label")).toHaveText("결제");
    await expect(payment.locator(".node-service")).toHaveText(/^결제 서비스\.charge/);
    await expect(page.locator('[data-node-id="order"] .node-label')).toHaveText("주문 접수");
    const events = (await page.locator("g.edge-group.event .edge-label").allTextContents()).filter((t) => t.trim());
    expect(events).toContain("주문 접수됨");
    expect(events).toContain("결제 거절됨");
    expect(events.join(" ")).not.toMatch(/[A-Za-z]/);
    // A run's log tells it in the same words (the engine keeps its names).
    await page.getByRole("combobox", { name: "실행 속도" }).selectOption("10");
    await page.getByRole("button", { name: "실행", exact: true }).click();
    await expect(page.getByRole("status", { name: "실행 상태" })).toContainText("완료");
    await page.getByRole("tab", { name: "로그" }).click();
    const log = page.getByRole("list", { name: "실행 로그" });
    await expect(log).toContainText("결제");
    await expect(log).toContainText("주문 접수됨");
    await expect(log).not.toContainText("payment ");
    await expect(log).not.toContainText("OrderPlaced");
    // A bus that loses every event: the story and the diagnosis name the lost event by its
    // Korean word too.
    await page.locator("details.run-faults summary").click();
    await page.locator("details.run-faults").getByRole("textbox", { name: "유실 %" }).fill("100");
    await page.getByRole("button", { name: "실행", exact: true }).click();
    await expect(page.getByRole("status", { name: "실행 상태" })).toContainText("실패");
    await page.getByRole("tab", { name: "요약" }).click();
    const story = page.getByRole("list", { name: "일어난 일" }).getByRole("listitem");
    await expect(story.first()).toHaveText("버스가 주문 접수에서 결제로 가던 주문 접수됨을 잃었습니다");
    await expect(page.getByRole("status", { name: "진단" })).toHaveText("멈춤: 버스가 주문 접수됨을 잃음");
    // The stored template is English: the API (and every export) keeps its words.
    const stored = await (await page.request.get("/api/workflows/template-ecommerce-choreographed", AS_A_BROWSER)).json();
    expect(stored.nodes.find((n: { id: string }) => n.id === "payment").label).toBe("Payment");
  });
});

test.describe("a Korean journey", () => {
  test.use({ locale: "ko-KR" });

  test("the editor, a run and its tabs, the inspector, the dialogs and the lab speak Korean", async ({ page }) => {
    test.setTimeout(120_000);
    await page.goto("/");
    await page.evaluate(() => localStorage.setItem("hybridflow.intro-dismissed", "1"));
    const column = page.getByRole("navigation", { name: "워크플로" });
    await expect(column).toHaveAttribute("aria-busy", "false");
    await column.getByRole("button", { name: "템플릿 사용: 두 가지 실패가 있는 전자상거래, 오케스트레이션" }).click();
    await expect(page).toHaveURL(/\?workflow=template-ecommerce-orchestrated$/);
    // The template is shown under its Korean title, read-only until the first edit.
    await expect(page.getByRole("textbox", { name: "워크플로 이름" })).toHaveValue("두 가지 실패가 있는 전자상거래, 오케스트레이션");
    await expect(page.getByRole("status", { name: "저장 상태" })).toHaveText("템플릿(읽기 전용): 처음 고치면 내 사본이 만들어집니다");
    await expectNoEnglish(page, "body");

    // A scenario from the template's note, at full speed.
    await page.getByRole("combobox", { name: "실행 속도" }).selectOption("10");
    await page.getByRole("group", { name: "시나리오" }).getByRole("button", { name: /카드 만료/ }).click();
    await expect(page.getByRole("status", { name: "실행 상태" })).toHaveText("실행 완료", { timeout: 20_000 });
    await expect(page.getByRole("list", { name: "일어난 일" })).toContainText("실패 경로로");
    await expectNoEnglish(page, "body");
    for (const tab of ["타임라인", "로그", "인과 관계", "다시 보기", "실행 목록"]) {
      await page.getByRole("tab", { name: tab }).click();
      await expect(page.getByRole("tab", { name: tab })).toHaveAttribute("aria-selected", "true");
      await expect(page.locator("#run-tab-body")).not.toBeEmpty();
      await expectNoEnglish(page, "body");
    }

    // A step selected: its fields and behaviour.
    await page.locator('[data-node-id="payment"] .node-body').click();
    await expect(page.getByRole("textbox", { name: "단계 이름" })).toBeVisible();
    await expectNoEnglish(page, "body");
    await page.keyboard.press("Escape");

    // The dialogs and the shortcuts.
    for (const [item, dialog] of [["내보내기…", "내보내기"], ["가져오기…", "가져오기"]]) {
      await page.getByRole("button", { name: "더 보기 ▾" }).click();
      await page.getByRole("group", { name: "더 보기" }).getByRole("button", { name: item }).click();
      await expect(page.getByRole("dialog", { name: dialog })).toBeVisible();
      await expectNoEnglish(page, "body");
      await page.getByRole("dialog", { name: dialog }).getByRole("button", { name: "닫기" }).click();
    }
    // What cannot be imported is said in Korean, each problem where it is, its particle
    // chosen by the quoted line before it; the input itself is quoted as written.
    await page.getByRole("button", { name: "더 보기 ▾" }).click();
    await page.getByRole("group", { name: "더 보기" }).getByRole("button", { name: "가져오기…" }).click();
    const importing = page.getByRole("dialog", { name: "가져오기" });
    await importing.getByRole("textbox", { name: "가져올 텍스트" }).fill("order -> pay\norder => ship\npay ~> ship :");
    await importing.getByRole("button", { name: "가져오기", exact: true }).click();
    const refusal = importing.getByRole("alert");
    await expect(refusal.locator("strong")).toHaveText(/^가져올 수 없습니다: 2번째 줄: /);
    await expect(refusal.getByRole("listitem")).toHaveText([
      '2번째 줄: "order => ship"는 읽을 수 없습니다. `a -> b`, `a ~> b : Event`, `a >> b` 또는 단계 이름을 쓰세요',
      "3번째 줄: \"pay ~> ship :\"에서 ':' 뒤의 이벤트 이름이 비어 있습니다",
    ]);
    await importing.getByRole("button", { name: "닫기" }).click();
    // Converting names the copy in Korean.
    await page.getByRole("button", { name: "더 보기 ▾" }).click();
    await page.getByRole("group", { name: "더 보기" }).getByRole("button", { name: "변환…" }).click();
    const convert = page.getByRole("dialog", { name: "변환" });
    await convert.getByRole("radio", { name: "전부 코레오그래피" }).check();
    await expect(convert).toContainText("연결 5개의 종류가 바뀝니다.");
    await expectNoEnglish(page, "body");
    await convert.getByRole("button", { name: "사본 만들기" }).click();
    await expect(page.getByRole("textbox", { name: "워크플로 이름" })).toHaveValue(/ \(코레오그래피 방식\)$/);

    await page.getByRole("button", { name: "더 보기 ▾" }).click();
    await page.getByRole("group", { name: "더 보기" }).getByRole("button", { name: "키보드 단축키" }).click();
    await expect(page.getByRole("dialog", { name: "키보드 단축키" })).toBeVisible();
    await expectNoEnglish(page, "body");
    await page.getByRole("dialog", { name: "키보드 단축키" }).getByRole("button", { name: "닫기" }).click();

    // The lab: a small compare, its reading and tables.
    await page.getByRole("button", { name: "더 보기 ▾" }).click();
    await page.getByRole("group", { name: "더 보기" }).getByRole("link", { name: "실험실" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toContainText("트레이드오프 실험실");
    const settings = page.getByRole("region", { name: "비교 설정" });
    await settings.getByRole("textbox", { name: "방식별 실행 수" }).fill("4");
    await settings.getByRole("button", { name: "비교" }).click();
    await expect(page.getByRole("list", { name: "해석" })).toBeVisible({ timeout: 30_000 });
    await expect(page.getByRole("list", { name: "해석" }).locator("li.headline")).not.toBeEmpty();
    await expectNoEnglish(page, "body");
  });
});

test("the language switch changes the page at once, sets lang and is remembered", async ({ page }) => {
  await openEditor(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  const column = page.getByRole("navigation", { name: "Workflows" });
  await column.getByRole("combobox", { name: "Language" }).selectOption("ko");
  await expect(page.locator("html")).toHaveAttribute("lang", "ko");
  await expect(page.getByRole("navigation", { name: "워크플로" }).getByRole("heading", { name: "템플릿" })).toBeVisible();
  await expect(page.getByRole("button", { name: "템플릿 사용: 주문 처리, 오케스트레이션" })).toBeVisible();

  // The server renders the next page in the chosen language.
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("lang", "ko");
  await expect(page.getByRole("navigation", { name: "워크플로" })).toHaveAttribute("aria-busy", "false");
  await page.getByRole("combobox", { name: "언어" }).selectOption("en");
  await expect(page.getByRole("navigation", { name: "Workflows" }).getByRole("heading", { name: "Templates" })).toBeVisible();
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
});

test("the introduction points at the lessons and, dismissed, stays dismissed", async ({ page }) => {
  await openEditor(page);
  await page.getByRole("button", { name: "New workflow" }).click();
  const intro = page.getByRole("complementary", { name: "Start here" });
  await expect(intro).toBeVisible();
  await expect(intro).toContainText("draw, run, break, compare");
  await expect(intro.getByRole("link", { name: "Learn the trade-off: 11 lessons" })).toHaveAttribute("href", "/learn");
  await intro.getByRole("button", { name: "Dismiss the introduction" }).click();
  await expect(intro).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("navigation", { name: "Workflows" })).toHaveAttribute("aria-busy", "false");
  await page.getByRole("button", { name: "New workflow" }).click();
  await expect(page.getByRole("complementary", { name: "Start here" })).toHaveCount(0);
});

test.describe("Korean particles", () => {
  test.use({ locale: "ko-KR" });

  // A name is put into a sentence only when it is said: the particle after it is chosen
  // by how the name ends (a final consonant, ㄹ, a vowel; a Latin name as Korean reads it).
  test("follow the name before them, Hangul or Latin", async ({ page, request }) => {
    const stamp = Date.now() % 100000;
    const cases = [
      { name: `주문 ${stamp} 주문`, says: `주문 ${stamp} 주문을 삭제할까요?` },
      { name: `결제 ${stamp} 결제`, says: `결제 ${stamp} 결제를 삭제할까요?` },
      { name: `payment ${stamp} payment`, says: `payment ${stamp} payment를 삭제할까요?` },
      { name: `email ${stamp} email`, says: `email ${stamp} email을 삭제할까요?` },
    ];
    for (const c of cases) {
      const made = await request.post("/api/workflows", { data: { name: c.name, nodes: [], edges: [] } });
      expect(made.status()).toBe(201);
    }
    await page.goto("/");
    await page.evaluate(() => localStorage.setItem("hybridflow.intro-dismissed", "1"));
    const column = page.getByRole("navigation", { name: "워크플로" });
    await expect(column).toHaveAttribute("aria-busy", "false");
    for (const c of cases) {
      await column.getByRole("button", { name: `${c.name} 삭제`, exact: true }).click();
      const ask = column.getByRole("alertdialog", { name: "삭제 확인" });
      await expect(ask).toContainText(c.says);
      await expect(ask).not.toContainText("(를)");
      await expect(ask).not.toContainText("을(");
      await ask.getByRole("button", { name: "유지" }).click();
    }
    // Korean is broken between words, never inside one.
    expect(await page.locator("html").evaluate((el) => getComputedStyle(el).wordBreak)).toBe("keep-all");
  });
});
