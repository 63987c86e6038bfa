// The editor's first load fetches only the main bundle; the code the first page does not
// need — a template's lesson, a step's fields, the run's socket and summary, the run
// panel's other tabs, the dialogs, the faults form, the lab — is fetched the first time it
// is used, and works.
import { test, expect, type Page } from "@playwright/test";
import { fromMenu, openEditor, fromTemplate } from "./helpers";

/** The wasm files the page fetched so far (file names). */
function wasmFetched(page: Page): () => string[] {
  const seen: string[] = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith("/pkg/") && path.endsWith(".wasm")) seen.push(path.slice("/pkg/".length));
  });
  return () => [...seen];
}

/** Whether a split whose name contains `what` was fetched. */
const fetched = (files: string[], what: string) => files.some((f) => f.startsWith("split_") && f.includes(what));

test("the first load fetches the main bundle only; each lazily loaded part arrives when first used", async ({ page }) => {
  const wasm = wasmFetched(page);
  await openEditor(page);
  // A first visit: the main module, and the introduction (empty canvas, nothing dismissed).
  await page.getByRole("button", { name: "New workflow" }).click();
  await expect(page.getByRole("complementary", { name: "Start here" })).toBeVisible();
  expect(wasm()[0]).toBe("hybridflow.wasm");
  expect(fetched(wasm(), "intro")).toBe(true);
  // No other lazily loaded part (the intro's shared chunks, `chunk_*`, come with it).
  expect(wasm().filter((f) => f.startsWith("split_") && !f.includes("intro"))).toEqual([]);

  // A template's lesson, when a workflow made from one opens.
  expect(fetched(wasm(), "lesson")).toBe(false);
  await page.getByRole("button", { name: "Use template Order processing, orchestrated" }).click();
  await expect(page.getByRole("complementary", { name: "What to try" })).toBeVisible();
  expect(fetched(wasm(), "lesson")).toBe(true);
  await page.getByRole("textbox", { name: "Workflow name" }).fill(`Bundle ${Date.now()}`);

  // Selecting a step fetches the fields of a selection, and they edit the step.
  await page.getByRole("button", { name: "ValidateOrder", exact: true }).click();
  await expect(page.getByRole("textbox", { name: "Step label" })).toHaveValue("ValidateOrder");
  expect(fetched(wasm(), "selection_fields")).toBe(true);
  expect(fetched(wasm(), "follow_run")).toBe(false);
  await page.keyboard.press("Escape");

  // The faults form, when its panel first opens.
  await page.getByText("Faults (break things)").click();
  await expect(page.getByRole("button", { name: "Apply to the live run" })).toBeVisible();
  expect(fetched(wasm(), "run_faults_form")).toBe(true);

  // A run fetches the run's socket code, and the run is followed to its end.
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("status", { name: "Run state" })).toHaveText("Run completed");
  expect(fetched(wasm(), "follow_run")).toBe(true);
  await expect(page.getByRole("list", { name: "What happened" })).toContainText("Completed");
  expect(fetched(wasm(), "run_summary")).toBe(true);

  // The other tabs of the run panel.
  expect(fetched(wasm(), "lazy_tab")).toBe(false);
  await page.getByRole("tab", { name: "Log" }).click();
  await expect(page.getByRole("list", { name: "Run log" }).locator("li").first()).toBeVisible();
  expect(fetched(wasm(), "lazy_tab")).toBe(true);

  // Import/Export/Convert.
  expect(fetched(wasm(), "transfer_dialogs")).toBe(false);
  await fromMenu(page, "Export…");
  await expect(page.getByRole("dialog", { name: "Export" })).toBeVisible();
  expect(fetched(wasm(), "transfer_dialogs")).toBe(true);

  // The lab is a route of its own.
  expect(fetched(wasm(), "lab_route")).toBe(false);
  await fromMenu(page, "Lab");
  await expect(page).toHaveURL(/\/lab\?workflow=/);
  await expect(page.getByRole("button", { name: "Compare" })).toBeVisible();
  expect(fetched(wasm(), "lab_route")).toBe(true);
});

test("the lab opened by its address waits for its chunk and hydrates", async ({ page }) => {
  const wasm = wasmFetched(page);
  await fromTemplate(page, "Order processing, orchestrated", `Lab address ${Date.now()}`);
  const workflow = new URL(page.url()).searchParams.get("workflow");
  await page.goto(`/lab?workflow=${workflow}`);
  // Interactive: a click changes state (the comparison runs and reports).
  await page.getByRole("textbox", { name: "Runs per style" }).fill("5");
  await page.getByRole("button", { name: "Compare" }).click();
  await expect(page.getByText("Batch done")).toBeVisible();
  await expect(page.getByRole("table", { name: "Comparison" })).toBeVisible();
  expect(fetched(wasm(), "lab_route")).toBe(true);
});
