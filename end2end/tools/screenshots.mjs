// The journey in pictures, in English and in Korean: the first visit, a template with its
// lesson, a run told in words, a lesson of the Learn page with its finding, and the lab.
// Writes docs/screenshots/<locale>-<n>-<step>.png. `make screenshots` builds, starts a
// server on a fresh database and runs it (installing a Korean font if the machine has none);
// against a server already running:
//   node end2end/tools/screenshots.mjs [http://127.0.0.1:3000]
import { chromium } from "@playwright/test";
import path from "node:path";

const base = process.argv[2] ?? "http://127.0.0.1:3000";
const out = path.join(new URL("../../docs/screenshots/", import.meta.url).pathname);
const words = {
  en: {
    column: "Workflows", newWorkflow: "New workflow", template: "Use template E-commerce with two failures, orchestrated",
    speed: "Run speed", scenarios: "Scenarios", card: /Card expired/, runState: "Run state", completed: "Run completed",
    learn: "Learn", lessonRun: "▶ Run the experiment", more: "More ▾", moreGroup: "More", lab: "Lab",
    settings: "Compare settings", compare: "Compare", reading: "Reading",
  },
  ko: {
    column: "워크플로", newWorkflow: "새 워크플로", template: "템플릿 사용: 두 가지 실패가 있는 전자상거래, 오케스트레이션",
    speed: "실행 속도", scenarios: "시나리오", card: /카드 만료/, runState: "실행 상태", completed: "실행 완료",
    learn: "배우기", lessonRun: "▶ 실험 실행", more: "더 보기 ▾", moreGroup: "더 보기", lab: "실험실",
    settings: "비교 설정", compare: "비교", reading: "해석",
  },
};

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
for (const [locale, w] of Object.entries(words)) {
  const context = await browser.newContext({ locale: locale === "ko" ? "ko-KR" : "en-GB", viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const shot = async (n, name) => {
    const file = path.join(out, `${locale}-${n}-${name}.png`);
    await page.screenshot({ path: file });
    console.log(file);
  };
  await page.goto(base);
  const column = page.getByRole("navigation", { name: w.column });
  await column.and(page.locator("[aria-busy=false]")).waitFor();
  await column.getByRole("button", { name: w.newWorkflow }).click();
  await page.waitForTimeout(500);
  await shot(1, "first-visit");

  await column.getByRole("button", { name: w.template }).click();
  await page.waitForURL(/\?workflow=/);
  await page.waitForTimeout(500);
  await shot(2, "template-lesson");

  await page.getByRole("combobox", { name: w.speed }).selectOption("4");
  await page.getByRole("group", { name: w.scenarios }).getByRole("button", { name: w.card }).click();
  await page.getByRole("status", { name: w.runState }).filter({ hasText: w.completed }).waitFor({ timeout: 30_000 });
  await page.waitForTimeout(300);
  await shot(3, "run-told-in-words");

  await page.getByRole("button", { name: w.more }).click();
  await page.getByRole("group", { name: w.moreGroup }).getByRole("link", { name: w.lab }).click();
  await page.getByRole("region", { name: w.settings }).getByRole("button", { name: w.compare }).click();
  await page.getByRole("list", { name: w.reading }).waitFor({ timeout: 60_000 });
  await page.waitForTimeout(300);
  await shot(4, "lab");

  await page.goto(`${base}/learn`);
  const card = page.locator("section#coupling");
  await card.getByRole("button", { name: w.lessonRun }).click();
  await card.locator(".finding-sentence").waitFor({ timeout: 60_000 });
  await card.scrollIntoViewIfNeeded();
  await shot(5, "learn");
  await context.close();
}
await browser.close();
