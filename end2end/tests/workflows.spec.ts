import { test, expect } from "@playwright/test";
import { AS_A_BROWSER, fromTemplate, openEditor, useTemplate } from "./helpers";

test("templates come first and stay out of the user's list; one opened three times and edited leaves one stored copy", async ({ page, request }) => {
  await openEditor(page);
  const list = page.getByRole("navigation", { name: "Workflows" });
  // Templates first, then the user's own work (no shipped example among it).
  const templatesTop = (await list.getByRole("heading", { name: "Templates" }).boundingBox())!.y;
  const yoursTop = (await list.getByRole("heading", { name: "Your workflows" }).boundingBox())!.y;
  expect(templatesTop).toBeLessThan(yoursTop);
  const rows = list.locator(".workflow-row");
  const stored = async () => ((await (await request.get("/api/workflows", AS_A_BROWSER)).json()) as { id: string; name: string }[]);
  const before = await stored();
  expect(before.filter((w) => w.id.startsWith("template-"))).toEqual([]);
  const rowsBefore = await rows.count();

  // Opened three times: read-only, nothing stored, the template marked in the list.
  const name = page.getByRole("textbox", { name: "Workflow name" });
  const template = list.getByRole("button", { name: "Use template E-commerce with two failures, orchestrated" });
  for (let i = 0; i < 3; i++) {
    await useTemplate(page, "E-commerce with two failures, orchestrated");
    await expect(name).toHaveValue("E-commerce with two failures, orchestrated");
    await expect(template).toHaveClass(/current/);
    await useTemplate(page, "Order processing, orchestrated");
  }
  await useTemplate(page, "E-commerce with two failures, orchestrated");
  expect((await stored()).length).toBe(before.length);
  await expect(rows).toHaveCount(rowsBefore);
  // A run needs no copy: the template runs as it is.
  await expect(page.locator("[data-node-id]")).toHaveCount(6);
  await page.getByRole("textbox", { name: "Run input" }).fill('{"stock": "none"}');
  expect((await stored()).length).toBe(before.length);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run compensated");
  await expect(page.locator('[data-node-id="payment"]')).toHaveAttribute("data-state", "compensated");
  await expect(page.locator('[data-node-id="fulfillment"]')).toHaveAttribute("data-state", "failed");
  expect((await stored()).length).toBe(before.length);

  // The first edit makes the user's copy, once, however many edits follow.
  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  await page.getByRole("button", { name: "Add step" }).click();
  await expect(page).toHaveURL(/\?workflow=[0-9a-f]{32}/);
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  await page.getByRole("button", { name: "Add step" }).click();
  await expect(page.getByRole("status", { name: "Save state" })).toHaveText("Saved");
  const after = await stored();
  expect(after.length).toBe(before.length + 1);
  const copy = after.find((w) => !before.some((b) => b.id === w.id))!;
  expect(copy.name).toMatch(/^E-commerce with two failures, orchestrated( \(copy \d+\))?$/);
  expect(copy.nodes).toBe(8);
  await expect(rows).toHaveCount(rowsBefore + 1);
  await expect(canvas.locator("[data-node-id]")).toHaveCount(8);
  // The template itself is untouched.
  const original = await (await request.get("/api/workflows/template-ecommerce-orchestrated", AS_A_BROWSER)).json();
  expect(original.nodes.length).toBe(6);

  // The copy is the user's: deleting it leaves the template where it was.
  await list.getByRole("button", { name: `Delete ${copy.name}`, exact: true }).click();
  await list.getByRole("alertdialog", { name: "Confirm delete" }).getByRole("button", { name: "Delete it" }).click();
  await expect(rows).toHaveCount(rowsBefore);
  await expect(template).toBeVisible();
});

test("duplicate a workflow, then delete the copy only after confirming", async ({ page }) => {
  const original = `Ledger ${Date.now()}`;
  await fromTemplate(page, "Financial transaction, strictly ordered", original);
  const list = page.getByRole("navigation", { name: "Workflows" });
  await list.getByRole("button", { name: `Duplicate ${original}`, exact: true }).click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue(`${original} (copy 2)`);
  const copy = list.getByRole("button", { name: new RegExp(`^${original} \\(copy 2\\) \\d+ steps`) });
  await expect(copy).toHaveCount(1);

  await list.getByRole("button", { name: `Delete ${original} (copy 2)` }).click();
  const dialog = list.getByRole("alertdialog", { name: "Confirm delete" });
  await expect(dialog).toContainText(`Delete ${original} (copy 2)?`);
  await dialog.getByRole("button", { name: "Keep it" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(copy).toHaveCount(1);

  await list.getByRole("button", { name: `Delete ${original} (copy 2)` }).click();
  await list.getByRole("alertdialog", { name: "Confirm delete" }).getByRole("button", { name: "Delete it" }).click();
  await expect(copy).toHaveCount(0);
  await expect(list.getByRole("button", { name: new RegExp(`^${original} \\d+ steps`) })).toHaveCount(1);
  await page.reload();
  await expect(list.getByRole("button", { name: new RegExp(`^${original}`) })).toHaveCount(1);
});

test("autosave keeps every edit: across a reload, and through a failed save until the server has it", async ({ page }) => {
  await openEditor(page);
  await page.getByRole("button", { name: "New workflow" }).click();
  await page.getByRole("textbox", { name: "Workflow name" }).fill("Autosaved");
  await page.getByRole("button", { name: "Add step" }).click();
  const saveState = page.getByRole("status", { name: "Save state" });
  await expect(saveState).toHaveText("Saved"); // nobody pressed Save
  await expect(page).toHaveURL(/\?workflow=[0-9a-f]{32}/);
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Autosaved");
  await expect(page.locator("[data-node-id]")).toHaveCount(1);

  // The server refuses to store anything for a while (every PUT fails).
  await page.route("**/api/workflows/*", (route) =>
    route.request().method() === "PUT" ? route.abort("connectionrefused") : route.continue(),
  );
  await page.getByRole("textbox", { name: "Workflow name" }).fill("Autosaved, edited offline");
  await expect(saveState).toHaveText(/Not saved — retrying/);
  await expect(page.getByRole("alert").filter({ hasText: "cannot reach the server" })).toBeVisible();

  // A reload meanwhile loses nothing: the local copy wins over the server's older version.
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Autosaved, edited offline");

  // The server is back: the retry stores it, and the server has it after another reload.
  await page.unroute("**/api/workflows/*");
  await expect(saveState).toHaveText("Saved", { timeout: 20_000 });
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Autosaved, edited offline");
});

test("an edit made in another tab is never overwritten silently: reload theirs or overwrite with mine", async ({ page, context }) => {
  await openEditor(page);
  await page.getByRole("button", { name: "New workflow" }).click();
  const nameA = page.getByRole("textbox", { name: "Workflow name" });
  await nameA.fill("Shared");
  await page.getByRole("button", { name: "Add step" }).click();
  const saveA = page.getByRole("status", { name: "Save state" });
  await expect(saveA).toHaveText("Saved");
  await expect(page).toHaveURL(/\?workflow=[0-9a-f]{32}/);

  // The same workflow in a second tab.
  const tabB = await context.newPage();
  await tabB.goto(page.url());
  const nameB = tabB.getByRole("textbox", { name: "Workflow name" });
  await expect(nameB).toHaveValue("Shared");
  const saveB = tabB.getByRole("status", { name: "Save state" });

  // Tab A saves first; tab B, still on the older revision, is refused — and says so.
  await nameA.fill("Renamed in tab A");
  await expect(saveA).toHaveText("Saved");
  await nameB.fill("Renamed in tab B");
  await expect(saveB).toHaveText("Not saved — changed in another tab");
  const conflictB = tabB.getByRole("alert", { name: "Edit conflict" });
  await expect(conflictB).toContainText("changed in another tab");
  await expect(nameB).toHaveValue("Renamed in tab B"); // its edit is still on screen

  // Reload theirs: tab B now shows tab A's edit, and can go on editing.
  await conflictB.getByRole("button", { name: "Reload theirs" }).click();
  await expect(nameB).toHaveValue("Renamed in tab A");
  await expect(conflictB).toBeHidden();
  await tabB.getByRole("button", { name: "Add step" }).click();
  await expect(saveB).toHaveText("Saved");

  // Now tab A is behind: overwrite with mine wins, on purpose.
  await nameA.fill("Tab A insists");
  const conflictA = page.getByRole("alert", { name: "Edit conflict" });
  await expect(conflictA).toBeVisible();
  await conflictA.getByRole("button", { name: "Overwrite with mine" }).click();
  await expect(saveA).toHaveText("Saved");
  await expect(conflictA).toBeHidden();
  await tabB.reload();
  await expect(nameB).toHaveValue("Tab A insists");
  await expect(tabB.locator("[data-node-id]")).toHaveCount(1); // tab A's copy had one step
});

test("a template carries its lesson onto the editor: one click runs each scenario, slow enough to watch", async ({ page }) => {
  await fromTemplate(page, "E-commerce with two failures, orchestrated", `Lesson ${Date.now()}`);
  const note = page.getByRole("complementary", { name: "What to try" });
  await expect(note).toContainText('Run with {"card": "expired"}');
  // Opening the template set a speed slow enough to watch.
  await expect(page.getByRole("combobox", { name: "Run speed" })).toHaveValue("0.25");
  await page.getByRole("combobox", { name: "Run speed" }).selectOption("10");

  // Each scenario button runs with its input.
  const scenarios = note.getByRole("group", { name: "Scenarios" }).getByRole("button");
  await expect(scenarios).toHaveText(["▶ Happy path", "▶ Card expired", "▶ Out of stock"]);
  await scenarios.nth(1).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  await expect(page.getByRole("textbox", { name: "Run input" })).toHaveValue('{"card": "expired"}');
  await expect(page.getByRole("list", { name: "What happened" }).getByRole("listitem").first()).toHaveText(
    /^Payment failed \(card = "expired"\) → handled by the failure route/,
  );
  await scenarios.nth(2).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run compensated");
  await expect(page.getByRole("textbox", { name: "Run input" })).toHaveValue('{"stock": "none"}');

  // Dismissed, it stays hidden for this workflow, across a reload.
  await note.getByRole("button", { name: "Dismiss the lesson" }).click();
  await expect(note).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue(/^Lesson /);
  await expect(page.locator("[data-node-id]")).toHaveCount(6);
  await expect(note).toHaveCount(0);
  // A workflow drawn by hand has no lesson.
  await page.getByRole("button", { name: "New workflow" }).click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Untitled workflow");
  await expect(note).toHaveCount(0);
});
