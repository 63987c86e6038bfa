import { test, expect } from "@playwright/test";
import * as fs from "node:fs";
import { center, connect, drag, freshWorkflow, fromMenu } from "./helpers";

test("the palette: drag a step onto the canvas where it lands, click to add one, a drop elsewhere adds nothing", async ({ page }) => {
  await freshWorkflow(page, 0);
  const canvas = page.getByRole("application", { name: "Workflow canvas" });
  const frame = (await canvas.boundingBox())!;
  const drop = { x: frame.x + 420, y: frame.y + 260 };

  await drag(page, await center(page.getByRole("button", { name: "Add retrying step" })), drop);
  await expect(page.locator("[data-node-id]")).toHaveCount(1);
  const body = await center(page.getByRole("button", { name: "Step 1", exact: true }));
  expect(Math.abs(body.x - drop.x)).toBeLessThanOrEqual(2);
  expect(Math.abs(body.y - drop.y)).toBeLessThanOrEqual(2);
  // The preset's behaviour came with it, and the new step is selected.
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  await expect(inspector.getByLabel("Retry: max attempts")).toHaveValue("3");

  // Released over the toolbar instead of the canvas: nothing is added.
  await drag(
    page,
    await center(page.getByRole("button", { name: "Add flaky step" })),
    await center(page.getByRole("button", { name: "Auto layout" })),
  );
  await expect(page.locator("[data-node-id]")).toHaveCount(1);

  // A click (or the keyboard) adds one in a free spot.
  await page.getByRole("button", { name: "Add flaky step" }).click();
  await expect(page.locator("[data-node-id]")).toHaveCount(2);
  await expect(inspector.getByLabel("Failure rate (0-1)")).toHaveValue("0.3");
  await page.getByRole("button", { name: "Add slow step" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.locator("[data-node-id]")).toHaveCount(3);
});

test("commands carry the conductor mark, one event to two subscribers reads as one publish, an event cycle badges its edge", async ({ page }) => {
  await freshWorkflow(page, 3);
  // Step 3 goes below step 2, so the two edges from step 1 take different ways.
  const two = await center(page.getByRole("button", { name: "Step 2", exact: true }));
  await drag(page, await center(page.getByRole("button", { name: "Step 3", exact: true })), { x: two.x, y: two.y + 150 });
  await connect(page, "Step 1", "Step 2");
  await connect(page, "Step 1", "Step 3");
  const marks = page.locator("[data-edge-id] .conductor-mark");
  await expect(marks).toHaveCount(2);

  // Both edges become events: E on the edge the last connection selected, then a click on
  // the other (where its conductor mark sits, on the line) and E.
  await page.keyboard.press("e");
  await page.mouse.click(...Object.values(await center(
    page.getByRole("button", { name: "command edge from Step 1 to Step 2" }).locator(".conductor-mark"),
  )) as [number, number]);
  await page.keyboard.press("e");
  await expect(marks).toHaveCount(0);
  await expect(page.getByRole("button", { name: "event edge from Step 1 to Step 2 (one publish, 2 subscribers)" })).toBeVisible();
  await expect(page.getByRole("button", { name: "event edge from Step 1 to Step 3 (one publish, 2 subscribers)" })).toBeVisible();
  await expect(page.locator("[data-edge-id] .edge-label").filter({ hasText: "Step1Completed" })).toHaveCount(1);
  await expect(page.locator("[data-edge-id] .publish-point")).toHaveCount(1);

  await connect(page, "Step 3", "Step 1");
  await page.keyboard.press("e");
  // Step 3 publishes back to step 1: an event cycle, badged on both of its edges.
  const edgeBadge = page.locator("[data-edge-id] .badge.warning");
  await expect(edgeBadge).toHaveCount(2);
  await expect(edgeBadge.first()).toHaveAttribute("aria-label", /event cycle/);
  // As a command it is a loop of a command and an event, still with no bound: one badge,
  // on the edge that closes it, until the edge gets a bound.
  await page.keyboard.press("c");
  await expect(marks).toHaveCount(1);
  await expect(edgeBadge).toHaveCount(1);
  await expect(edgeBadge).toHaveAttribute("aria-label", /closes a loop of commands and events with no bound/);
  const bound = page.getByRole("complementary", { name: "Inspector" }).getByRole("spinbutton", { name: "Loop: at most (times)" });
  await bound.fill("2");
  await bound.press("Tab");
  await expect(edgeBadge).toHaveCount(0);
});

test("space+drag pans even over a step; Ctrl+wheel (a trackpad pinch) zooms", async ({ page }) => {
  await freshWorkflow(page, 2);
  const one = page.getByRole("button", { name: "Step 1", exact: true });
  const two = page.getByRole("button", { name: "Step 2", exact: true });
  const [a, b] = [(await one.boundingBox())!, (await two.boundingBox())!];
  await page.mouse.move(a.x + 20, a.y + 20);
  await page.keyboard.down("Space");
  await page.mouse.down();
  await page.mouse.move(a.x + 100, a.y + 60, { steps: 8 });
  await page.mouse.up();
  await page.keyboard.up("Space");
  // Both steps moved on screen by the drag: the view panned, no step was moved.
  const [a2, b2] = [(await one.boundingBox())!, (await two.boundingBox())!];
  expect(Math.round(a2.x - a.x)).toBe(80);
  expect(Math.round(a2.y - a.y)).toBe(40);
  expect(Math.round(b2.x - b.x)).toBe(80);
  expect(Math.round(b2.y - b.y)).toBe(40);

  // Without space the same drag moves the step alone.
  const place = (id: string) => page.locator(`[data-node-id="${id}"]`).getAttribute("transform");
  const [p1, p2] = [await place("step-1"), await place("step-2")];
  await drag(page, await center(one), { x: a2.x + 100 + 40, y: a2.y + 32 });
  expect(await place("step-1")).not.toBe(p1);
  expect(await place("step-2")).toBe(p2);

  const level = page.getByLabel("Zoom level");
  await expect(level).toHaveText("100%");
  await page.mouse.move(a2.x, a2.y);
  await page.keyboard.down("Control");
  await page.mouse.wheel(0, -40);
  await page.keyboard.up("Control");
  await expect.poll(async () => parseInt(await level.innerText())).toBeGreaterThan(140);
});

test("download the canvas as SVG with its styles and as a PNG", async ({ page }) => {
  await freshWorkflow(page, 2);
  await connect(page, "Step 1", "Step 2");
  await fromMenu(page, "Export…");
  const dialog = page.getByRole("dialog", { name: "Export" });

  const svg = dialog.getByRole("link", { name: "Download canvas (SVG)" });
  await expect(svg).toHaveAttribute("download", "Untitledworkflow.svg");
  const markup = decodeURIComponent((await svg.getAttribute("href"))!.replace(/^data:image\/svg\+xml;charset=utf-8,/, ""));
  expect(markup).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(markup).toContain("<style><![CDATA[");
  expect(markup).toContain(".node-body");
  expect(markup).toContain('data-node-id="step-2"');

  const canvas = (await page.getByRole("application", { name: "Workflow canvas" }).boundingBox())!;
  const downloading = page.waitForEvent("download");
  await dialog.getByRole("button", { name: "Download canvas (PNG)" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("Untitledworkflow.png");
  const png = fs.readFileSync((await download.path())!);
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // IHDR: width and height at twice the canvas's size, and more than one colour drawn.
  expect(png.readUInt32BE(16)).toBe(Math.round(canvas.width) * 2);
  expect(png.readUInt32BE(20)).toBe(Math.round(canvas.height) * 2);
  expect(png.length).toBeGreaterThan(5000);
});

test("import a Conductor workflow and native JSON through the dialog; an unsupported task is refused by name", async ({ page }) => {
  await freshWorkflow(page, 0);
  const open = () => fromMenu(page, "Import…");
  const dialog = page.getByRole("dialog", { name: "Import" });
  const source = dialog.getByRole("textbox", { name: "Text to import" });

  await open();
  await source.fill(JSON.stringify({
    name: "Conductor images",
    tasks: [
      { name: "receive", taskReferenceName: "receive", type: "SIMPLE" },
      { name: "announce", taskReferenceName: "announce", type: "EVENT", sink: "conductor:ImagesReady" },
      { name: "notify", taskReferenceName: "notify", type: "SIMPLE" },
    ],
  }));
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Conductor images");
  await expect(page.locator("[data-node-id]")).toHaveCount(2);
  await expect(page.getByRole("button", { name: "event edge from receive to notify" })).toBeAttached();
  await expect(page.locator(".edge-label").filter({ hasText: "ImagesReady" })).toBeAttached();

  await open();
  await source.fill(JSON.stringify({
    name: "Native one",
    nodes: [
      { id: "a", label: "A", service: "S", action: "go", position: { x: 40, y: 40 } },
      { id: "b", label: "B", service: "S", action: "go", position: { x: 340, y: 40 }, retry: { max_attempts: 2 } },
    ],
    edges: [{ id: "a-b", from: "a", to: "b", kind: "command", on: "failure" }],
  }));
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("textbox", { name: "Workflow name" })).toHaveValue("Native one");
  await expect(page.getByRole("button", { name: "command edge from A to B" })).toBeAttached();
  await expect(page.locator('[data-edge-id="a-b"] .edge-label')).toHaveText("on failure");

  await open();
  await source.fill(JSON.stringify({ name: "x", tasks: [
    { name: "a", taskReferenceName: "a", type: "SIMPLE" },
    { name: "child", taskReferenceName: "child", type: "KAFKA_PUBLISH" },
  ] }));
  await dialog.getByRole("button", { name: "Import" }).click();
  await expect(dialog.getByRole("alert")).toContainText('"child" has type KAFKA_PUBLISH');
  await expect(dialog.getByRole("alert")).toContainText("tasks[1].type");
});
