// Canvas benchmark: `node end2end/bench/canvas.js` after `make build`.
// Opens a generated workflow of 1,000 steps and 1,500 edges in headless Chromium against
// the release server and prints: first render, frame times while dragging a step and while
// panning/zooming, and the shipped wasm + JS size (raw and gzipped).
const { chromium } = require("playwright-core");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const zlib = require("node:zlib");

const ROOT = path.resolve(__dirname, "../..");
const PORT = 3377;
const BASE = `http://127.0.0.1:${PORT}`;
const STEPS = 1000;
const EDGES = 1500;

function workflow() {
  const nodes = [];
  const edges = [];
  const perRow = 40;
  for (let i = 0; i < STEPS; i++) {
    nodes.push({ id: `s${i}`, label: `Step ${i}`, service: `Service${i % 17}`, action: "run",
      position: { x: 40 + (i % perRow) * 260, y: 40 + Math.floor(i / perRow) * 110 } });
  }
  // A chain through all steps, plus extra forward edges: 1,500 in all, a third events.
  for (let i = 1; i < STEPS; i++) edges.push({ from: `s${i - 1}`, to: `s${i}`, kind: i % 3 ? "command" : "event" });
  for (let k = 0; edges.length < EDGES; k++) {
    const a = (k * 7) % (STEPS - 50);
    edges.push({ from: `s${a}`, to: `s${a + 1 + (k % 40)}`, kind: k % 2 ? "event" : "command" });
  }
  return { name: "Bench 1000", nodes, edges };
}

async function waitHealthy() {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`${BASE}/api/health`)).ok) return; } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("server did not start");
}

function stats(intervals) {
  const sorted = [...intervals].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return `mean ${mean.toFixed(1)} ms, p95 ${sorted[Math.floor(sorted.length * 0.95)].toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms over ${sorted.length} frames`;
}

(async () => {
  const db = path.join(os.tmpdir(), `hybridflow-bench-${Date.now()}.db`);
  const server = spawn(path.join(ROOT, "target/release/hybridflow"), ["--bind", `127.0.0.1:${PORT}`, "--database", db, "--log", "warn"], { stdio: "inherit" });
  try {
    await waitHealthy();
    const res = await fetch(`${BASE}/api/workflows`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(workflow()) });
    const { id } = await res.json();
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const started = Date.now();
    await page.goto(`${BASE}/?workflow=${id}`);
    await page.waitForFunction((n) => document.querySelectorAll("[data-node-id]").length === n, STEPS, { timeout: 60000, polling: "raf" });
    await page.waitForFunction((n) => document.querySelectorAll("[data-edge-id]").length === n, EDGES, { timeout: 60000, polling: "raf" });
    const firstRender = Date.now() - started;

    // Frame times: requestAnimationFrame intervals while the gesture runs.
    const record = () => page.evaluate(() => {
      window.__frames = [];
      let last = performance.now();
      const tick = (t) => { window.__frames.push(t - last); last = t; if (window.__recording) requestAnimationFrame(tick); };
      window.__recording = true;
      requestAnimationFrame(tick);
    });
    const stop = () => page.evaluate(() => { window.__recording = false; return window.__frames.slice(1); });

    const node = page.locator('[data-node-id="s3"] .node-body');
    const box = await node.boundingBox();
    await record();
    await page.mouse.move(box.x + 50, box.y + 30);
    await page.mouse.down();
    for (let i = 1; i <= 60; i++) await page.mouse.move(box.x + 50 + i * 3, box.y + 30 + i * 2);
    await page.mouse.up();
    const drag = await stop();

    await record();
    await page.mouse.move(700, 500);
    for (let i = 0; i < 30; i++) await page.mouse.wheel(0, i % 2 ? 120 : -120);
    const zoom = await stop();
    await record();
    await page.mouse.move(1300, 880);
    await page.mouse.down();
    for (let i = 1; i <= 30; i++) await page.mouse.move(1300 - i * 10, 880 - i * 5);
    await page.mouse.up();
    const pan = await stop();

    const pkg = path.join(ROOT, "target/site/pkg");
    const size = (f) => fs.statSync(path.join(pkg, f)).size;
    const gz = (f) => zlib.gzipSync(fs.readFileSync(path.join(pkg, f)), { level: 9 }).length;
    const raw = size("hybridflow.wasm") + size("hybridflow.js");
    const zipped = gz("hybridflow.wasm") + gz("hybridflow.js");

    console.log(`canvas benchmark: ${STEPS} steps, ${EDGES} edges, headless Chromium`);
    console.log(`first render (navigation to every step and edge drawn): ${firstRender} ms`);
    console.log(`dragging a step: ${stats(drag)}`);
    console.log(`zooming (wheel): ${stats(zoom)}`);
    console.log(`panning (drag on empty canvas): ${stats(pan)}`);
    console.log(`shipped wasm + JS: ${(raw / 1024).toFixed(0)} KB raw, ${(zipped / 1024).toFixed(0)} KB gzipped (wasm ${(gz("hybridflow.wasm") / 1024).toFixed(0)} KB, JS ${(gz("hybridflow.js") / 1024).toFixed(0)} KB)`);
    await browser.close();
  } finally {
    server.kill();
    fs.rmSync(db, { force: true });
  }
})().catch((e) => { console.error(e); process.exit(1); });
