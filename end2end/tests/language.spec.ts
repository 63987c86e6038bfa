// Korean and English: picked from Accept-Language on a first visit, switched, remembered;
// `lang` follows; a Korean page keeps no English string of the catalogue.
import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { openEditor } from "./helpers";

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

async function expectNoEnglish(page: Page, selector: string) {
  const text = (await page.locator(selector).allInnerTexts()).join("\n");
  const attributes = await page.locator(`${selector}, ${selector} *`).evaluateAll((els) =>
    els.flatMap((el) => ["aria-label", "title"].map((a) => el.getAttribute(a) ?? "")).join("\n"),
  );
  const left = englishOnly().filter((s) => text.includes(s) || attributes.includes(s));
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
    await expectNoEnglish(page, "main.learn");
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
  await expect(intro.getByRole("link", { name: "Learn the trade-off: 8 lessons" })).toHaveAttribute("href", "/learn");
  await intro.getByRole("button", { name: "Dismiss the introduction" }).click();
  await expect(intro).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("navigation", { name: "Workflows" })).toHaveAttribute("aria-busy", "false");
  await page.getByRole("button", { name: "New workflow" }).click();
  await expect(page.getByRole("complementary", { name: "Start here" })).toHaveCount(0);
});
