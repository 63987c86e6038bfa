// Shared steps of the browser tests: real mouse gestures and getting to a known page.
import { expect, type Locator, type Page } from "@playwright/test";

/** A GET the way a browser makes it: retried once if the server closed the kept-alive
 *  connection just as the request went out (Chromium retries that by itself, Node does not;
 *  the server closes a connection idle for HEADER_READ_TIMEOUT). */
export const AS_A_BROWSER = { maxRetries: 1 } as const;

export async function center(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error(`not visible: ${locator}`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** A real mouse drag: press, move in small steps, release. */
export async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 12 });
  await page.mouse.up();
}

/** The page is hydrated once the browser has fetched the workflows list (the column is
 * busy until then). */
export async function openEditor(page: Page) {
  await page.goto("/");
  await expect(page.getByRole("navigation", { name: "Workflows" })).toHaveAttribute("aria-busy", "false");
}

/** Opens a shipped template, read-only (the user's list gets nothing until an edit). */
export async function useTemplate(page: Page, title: string) {
  await page.getByRole("navigation", { name: "Workflows" }).getByRole("button", { name: `Use template ${title}` }).click();
  await expect(page).toHaveURL(/\?workflow=template-[a-z-]+$/);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Template (read-only): your first edit makes your own copy");
}

/** The user's own copy of a shipped template: opened, then renamed (the first edit makes
 * the copy), so other tests still find the original. */
export async function fromTemplate(page: Page, title: string, name: string) {
  await openEditor(page);
  await useTemplate(page, title);
  await page.getByRole("textbox", { name: "Workflow name" }).fill(name);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await expect(page).toHaveURL(/\?workflow=[0-9a-f]{32}/);
}

/** A new, empty workflow with `steps` steps added from the toolbar. */
export async function freshWorkflow(page: Page, steps: number) {
  await openEditor(page);
  // The first visit's introduction stays away (as once dismissed), so the canvas keeps its
  // place while the test draws.
  await page.evaluate(() => localStorage.setItem("hybridflow.intro-dismissed", "1"));
  await page.getByRole("button", { name: "New workflow" }).click();
  await expect(page.getByRole("complementary", { name: "Start here" })).toHaveCount(0);
  for (let i = 0; i < steps; i++) await page.getByRole("button", { name: "Add step" }).click();
}

/** Drags from one step's output handle onto another step. */
export async function connect(page: Page, from: string, to: string) {
  await drag(
    page,
    await center(page.getByRole("button", { name: `Connect from ${from}` })),
    await center(page.getByRole("button", { name: to, exact: true })),
  );
}

/** Picks an entry of the toolbar's "More" menu (import, export, convert, the lab). */
export async function fromMenu(page: Page, name: string) {
  await page.getByRole("button", { name: "More ▾" }).click();
  const menu = page.getByRole("group", { name: "More" });
  await menu.getByRole(name === "Lab" ? "link" : "button", { name }).click();
}

/** Every step's box lies inside `frame` (the canvas on screen). */
export async function expectStepsInside(page: Page, frame: { x: number; y: number; width: number; height: number }) {
  for (const node of await page.locator("[data-node-id] .node-body").all()) {
    const b = (await node.boundingBox())!;
    expect(b.x).toBeGreaterThanOrEqual(frame.x);
    expect(b.y).toBeGreaterThanOrEqual(frame.y);
    expect(b.x + b.width).toBeLessThanOrEqual(frame.x + frame.width);
    expect(b.y + b.height).toBeLessThanOrEqual(frame.y + frame.height);
  }
}
