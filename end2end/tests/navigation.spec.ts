import { test, expect } from "@playwright/test";
import { openEditor, fromMenu, fromTemplate } from "./helpers";

// Leaving a page must end what it started: its live sockets, its polling and its keyboard
// shortcuts. Before, the editor's runs feed and key handlers outlived it and touched its
// disposed state from the lab page, which killed the app (a wasm panic).
test("from the editor with a run live to the lab and back: keys, clicks and a load test there break nothing", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  const feeds: { closed: boolean }[] = [];
  page.on("websocket", (ws) => {
    if (!ws.url().endsWith("/api/runs/feed")) return;
    const feed = { closed: false };
    feeds.push(feed);
    ws.on("close", () => (feed.closed = true));
  });

  await fromTemplate(page, "Order processing, orchestrated", `Navigation ${Date.now()}`);
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("0.25");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText(/running/i);
  await expect.poll(() => feeds.length).toBe(1);

  await fromMenu(page, "Lab");
  await expect(page.getByRole("heading", { name: /Trade-off lab/ })).toBeVisible();
  // The editor's feed is closed with it.
  await expect.poll(() => feeds[0].closed).toBe(true);
  // Keys the editor answered (delete, fit, zoom, C/E) and a click: nothing of the editor fires.
  await page.getByRole("heading", { name: /Trade-off lab/ }).click();
  for (const key of ["Delete", "f", "+", "c", "e", "Control+z"]) await page.keyboard.press(key);
  // Runs start and end everywhere while the lab runs a load test.
  const load = page.getByRole("region", { name: "Load", exact: true });
  await load.getByRole("textbox", { name: "Rate (runs/s)" }).fill("40");
  await load.getByRole("textbox", { name: "Seconds" }).fill("1");
  await load.getByRole("button", { name: "Start load" }).click();
  await expect(load.getByText("Load test done")).toBeVisible({ timeout: 30_000 });

  // A compare batch is under way when the user goes back: its polling ends with the page.
  await page.getByRole("textbox", { name: "Runs per style" }).fill("5000");
  await page.getByRole("button", { name: "Compare" }).click();
  await expect(page.getByRole("button", { name: "Cancel batch" })).toBeVisible();

  // Back in the editor: it works, with one feed again.
  await page.getByRole("link", { name: "← Editor" }).click();
  await expect(page.getByRole("navigation", { name: "Workflows" })).toBeVisible();
  await page.getByRole("button", { name: "Add step" }).click();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await expect.poll(() => feeds.filter((f) => !f.closed).length).toBe(1);
  await page.waitForTimeout(1_000); // what the lab left running would have touched it by now
  expect(errors).toEqual([]);
});
