// The canvas gets the screen: at 1280×720, 1440×900 and 1920×1080, in English and Korean,
// light and dark, an e-commerce template opens at 80 % or more on a canvas that takes more
// than half the window's width and height; every event's name lies inside the canvas and
// off every step, every label inside its step; the workflows column fits (nothing covered,
// nothing scrolls sideways, not even when Tab reaches its last control); the run panel stays
// folded until a run and can then be resized by mouse and keyboard.
import { test, expect, type Page } from "@playwright/test";
import { AS_A_BROWSER } from "./helpers";

const SIZES = [
  { width: 1280, height: 720 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
];
const LOCALES = [
  { locale: "en-GB", column: "Workflows", canvas: "Workflow canvas", template: "Use template E-commerce with two failures, choreographed", panel: "Run panel" },
  { locale: "ko-KR", column: "워크플로", canvas: "워크플로 캔버스", template: "템플릿 사용: 두 가지 실패가 있는 전자상거래, 코레오그래피", panel: "실행 패널" },
];
type Box = { x: number; y: number; width: number; height: number };

function overlap(a: Box, b: Box) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}
function inside(a: Box, b: Box, slack = 0.5) {
  return a.x >= b.x - slack && a.y >= b.y - slack && a.x + a.width <= b.x + b.width + slack && a.y + a.height <= b.y + b.height + slack;
}

/** No control of the column is covered by another element, and nothing in the page or the
 * column scrolls sideways. */
async function columnFits(page: Page, column: string) {
  const nav = page.getByRole("navigation", { name: column });
  const covered = await nav.evaluate((el) => {
    const out: string[] = [];
    for (const c of Array.from(el.querySelectorAll("button, select, a, input")) as HTMLElement[]) {
      c.scrollIntoView({ block: "nearest" });
      const r = c.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (!hit || !(c === hit || c.contains(hit))) out.push(`${c.tagName} "${c.textContent?.trim() || c.getAttribute("aria-label")}" under ${hit?.tagName}.${hit?.className}`);
      if (r.right > el.getBoundingClientRect().right + 0.5) out.push(`${c.tagName} "${c.textContent?.trim()}" past the column's edge`);
    }
    return out;
  });
  expect(covered, "controls of the column covered or cut").toEqual([]);
  expect(await nav.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
  expect(await page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
}

for (const size of SIZES) {
  for (const words of LOCALES) {
    for (const scheme of ["light", "dark"] as const) {
      test(`${size.width}×${size.height}, ${words.locale}, ${scheme}: the canvas gets the screen and every name is readable`, async ({ browser }, info) => {
        const context = await browser.newContext({ viewport: size, locale: words.locale, colorScheme: scheme });
        const page = await context.newPage();
        await page.goto("/");
        await page.evaluate(() => localStorage.setItem("hybridflow.intro-dismissed", "1"));
        await page.reload();
        const column = page.getByRole("navigation", { name: words.column });
        await expect(column).toHaveAttribute("aria-busy", "false");
        await column.getByRole("button", { name: words.template }).click();
        await expect(page).toHaveURL(/workflow=template-ecommerce-choreographed/);
        await expect(page.locator("[data-node-id]")).toHaveCount(9);

        // The canvas: over half the window each way, the template at 80 % or more.
        const canvas = page.getByRole("application", { name: words.canvas });
        await expect(async () => {
          const frame = (await canvas.boundingBox())!;
          expect(frame.width, "canvas width").toBeGreaterThanOrEqual(0.55 * size.width);
          expect(frame.height, "canvas height").toBeGreaterThanOrEqual(0.55 * size.height);
          const zoom = Number((await page.locator(".zoom-level").innerText()).replace("%", ""));
          expect(zoom, "the template's zoom").toBeGreaterThanOrEqual(80);
        }).toPass({ timeout: 5_000 });
        const frame = (await canvas.boundingBox())!;

        // Every event name inside the canvas and off every step; every label in its box.
        const steps = await Promise.all((await page.locator("[data-node-id] .node-body").all()).map((n) => n.boundingBox()));
        const labels = page.locator(".edge-label").filter({ hasText: /\S/ });
        expect(await labels.count()).toBeGreaterThanOrEqual(5);
        for (const label of await labels.all()) {
          const box = (await label.boundingBox())!;
          const text = await label.textContent();
          expect(inside(box, frame), `"${text}" inside the canvas`).toBe(true);
          for (const step of steps) expect(overlap(box, step!), `"${text}" off every step`).toBe(false);
        }
        for (const node of await page.locator("[data-node-id]").all()) {
          const body = (await node.locator(".node-body").boundingBox())!;
          for (const text of await node.locator(".node-label tspan, .node-service").all()) {
            const box = (await text.boundingBox())!;
            expect(inside(box, body), `"${await text.textContent()}" inside its step`).toBe(true);
          }
        }

        // The column fits, also after Tab walked to its last control.
        await columnFits(page, words.column);
        await page.locator(".theme-toggle").first().focus();
        await page.keyboard.press("Shift+Tab");
        await page.keyboard.press("Tab");
        await expect(page.locator(".theme-toggle").first()).toBeFocused();
        expect(await page.evaluate(() => window.scrollX)).toBe(0);
        expect(await column.evaluate((el) => el.scrollLeft)).toBe(0);
        await columnFits(page, words.column);

        // The run panel: folded to its tabs until a run, then open, and resizable.
        const panel = page.getByRole("region", { name: words.panel });
        expect((await panel.boundingBox())!.height, "the folded run panel").toBeLessThan(48);
        await expect(page.getByRole("tabpanel")).toBeHidden();
        await page.locator(".toolbar .run-controls button.primary").click();
        await expect(page.getByRole("tabpanel")).toBeVisible();
        const open = (await panel.boundingBox())!.height;
        expect(open).toBeGreaterThan(100);
        const edge = page.getByRole("separator");
        const e = (await edge.boundingBox())!;
        await page.mouse.move(e.x + e.width / 2, e.y + e.height / 2);
        await page.mouse.down();
        await page.mouse.move(e.x + e.width / 2, e.y + e.height / 2 - 60, { steps: 6 });
        await page.mouse.up();
        await expect.poll(async () => Math.round((await panel.boundingBox())!.height)).toBe(Math.round(open + 60));
        await edge.focus();
        await page.keyboard.press("ArrowDown");
        await expect.poll(async () => Math.round((await panel.boundingBox())!.height)).toBe(Math.round(open + 40));
        await expect(edge).toHaveAttribute("aria-valuenow", String(Math.round(open + 40)));

        await info.attach(`room-${size.width}-${words.locale}-${scheme}`, { body: await page.screenshot(), contentType: "image/png" });
        await context.close();
      });
    }
  }
}

test("a first visit opens a template to run, with no error and nothing unsaved; the name is a field", async ({ page, request }) => {
  // A first visit: nothing of the user's stored yet.
  for (const w of (await (await request.get("/api/workflows", AS_A_BROWSER)).json()) as { id: string }[]) {
    expect((await request.delete(`/api/workflows/${w.id}`)).status()).toBe(204);
  }
  await page.goto("/");
  await expect(page.getByRole("navigation", { name: "Workflows" })).toHaveAttribute("aria-busy", "false");
  await expect(page.getByRole("complementary", { name: "Start here" })).toBeVisible();
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Template (read-only): your first edit makes your own copy");
  await expect(page.getByText(/must not be empty|Unsaved/)).toHaveCount(0);
  await expect(page.getByRole("heading", { name: /Problems \(0\)/i })).toBeVisible();
  // The name is a field that looks like one: a border to click into, and typing renames.
  const name = page.getByRole("textbox", { name: "Workflow name" });
  const border = await name.evaluate((el) => getComputedStyle(el).borderTopStyle);
  expect(border).not.toBe("none");
  expect(await name.evaluate((el) => getComputedStyle(el).borderTopWidth)).not.toBe("0px");
  // Read once, the introduction folds to one line on an empty canvas.
  await page.getByRole("button", { name: "Dismiss the introduction" }).click();
  await expect(page.getByRole("complementary", { name: "Start here" })).toHaveCount(0);
  await page.getByRole("button", { name: "New workflow" }).click();
  const line = page.getByRole("complementary", { name: "Introduction" });
  await expect(line).toBeVisible();
  expect((await line.boundingBox())!.height).toBeLessThan(40);
  await line.getByRole("button", { name: "How it works ▸" }).click();
  await expect(page.getByRole("complementary", { name: "Start here" })).toBeVisible();
});

test("the fault fields say at once what is wrong, in the units they show", async ({ page }) => {
  await page.goto("/");
  await page.evaluate(() => localStorage.setItem("hybridflow.intro-dismissed", "1"));
  await page.goto("/?workflow=template-ecommerce-choreographed");
  await expect(page.locator("[data-node-id]")).toHaveCount(9);
  await page.getByText("Faults (break things)").click();
  const duplicate = page.getByRole("textbox", { name: "Duplicate %", exact: true });
  await duplicate.fill("150");
  await expect(duplicate).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("Duplicate %: between 0 and 100 %, not 150")).toBeVisible();
  await duplicate.fill("abc");
  await expect(page.getByText('Duplicate %: "abc" is not a number')).toBeVisible();
  // Run says the same, in percent, not in probabilities.
  await duplicate.fill("150");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "between 0 and 100 %, not 150" }).first()).toBeVisible();
  await expect(page.getByText(/between 0 and 1, got/)).toHaveCount(0);
  await duplicate.fill("100");
  await expect(duplicate).not.toHaveAttribute("aria-invalid", "true");
  await expect(page.locator(".field-problem:visible")).toHaveCount(0);
});

test("on a phone the editor says plainly that it needs a wider screen, and what works there", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "en-GB" });
  const page = await context.newPage();
  await page.goto("/");
  const note = page.getByRole("note");
  await expect(note).toContainText("The editor needs a screen at least 900 pixels wide");
  await expect(page.getByRole("application", { name: "Workflow canvas" })).toBeHidden();
  expect(await page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await note.getByRole("link", { name: "Learn" }).click();
  await expect(page).toHaveURL(/\/learn$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Orchestration and choreography, measured");
  await context.close();
});

test("a lost event marks its edge and the steps the run never reached, not 'skipped'", async ({ page }) => {
  await page.goto("/");
  await page.evaluate(() => localStorage.setItem("hybridflow.intro-dismissed", "1"));
  await page.goto("/?workflow=template-order-choreographed");
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("10");
  await page.getByText("Faults (break things)").click();
  await page.getByRole("textbox", { name: "Drop %", exact: true }).fill("100");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).not.toHaveText("Run running", { timeout: 20_000 });
  for (const id of ["charge", "confirm"]) {
    const step = page.locator(`[data-node-id="${id}"]`);
    await expect(step).toHaveClass(/never-reached/);
    await expect(step.locator(".node-state")).toHaveText("⊘ never reached");
  }
  await expect(page.locator('[data-node-id="validate"]')).not.toHaveClass(/never-reached/);
  const lost = page.getByRole("button", { name: /the bus lost the event here/ });
  await expect(lost).toHaveCount(1);
  await expect(lost).toHaveClass(/lost/);
  await expect(lost.locator(".lost-mark")).toBeVisible();
});
