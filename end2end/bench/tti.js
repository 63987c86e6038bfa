// Time to interactive of the editor page: `node end2end/bench/tti.js` after `make build`.
// Starts the release server on a fresh database, then loads the editor 10 times in headless
// Chromium (a fresh browser context each time: nothing cached) and measures from navigation
// start to the first click that changes state — the canvas's Hub button, clicked every 10 ms
// until it is pressed (before hydration it does nothing; it needs no data, and every version
// of the editor has it). Prints the median and p90, without and with 4× CPU throttling, and
// the bytes transferred for the bundle (wasm + JS, as sent). TTI_ROOT measures the build of
// another checkout.
const { chromium } = require("playwright-core");
const { spawn } = require("node:child_process");
const os = require("node:os");
const path = require("node:path");

// The checkout whose release build is measured (this one by default; TTI_ROOT=/elsewhere
// measures another, e.g. an older commit built there).
const ROOT = process.env.TTI_ROOT ?? path.resolve(__dirname, "../..");
const PORT = Number(process.env.TTI_PORT ?? 3378);
const BASE = `http://127.0.0.1:${PORT}`;
const LOADS = Number(process.env.TTI_LOADS ?? 10);

async function waitHealthy() {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`${BASE}/api/health`)).ok) return; } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("server did not start");
}

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function load(browser, throttle) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: throttle });
  const sizes = [];
  page.on("requestfinished", (request) => {
    if (/\/pkg\/.*\.(wasm|js)$/.test(request.url())) sizes.push(request.sizes().then((s) => s.responseBodySize));
  });
  await page.goto(`${BASE}/`, { waitUntil: "commit" });
  const button = page.getByRole("button", { name: "Show the orchestrator" });
  await button.waitFor();
  const origin = await page.evaluate(() => performance.timeOrigin);
  for (let tries = 0; ; tries++) {
    if (tries > 3000) throw new Error("the page never answered a click");
    // Where the button is now (it moves once the style sheet arrives).
    const box = await button.boundingBox();
    const at = Date.now();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    if ((await button.getAttribute("aria-pressed")) === "true") {
      const bundle = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
      await context.close();
      return { tti: at - origin, bundle };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

(async () => {
  const db = path.join(os.tmpdir(), `hybridflow-tti-${Date.now()}.db`);
  const server = spawn(path.join(ROOT, "target/release/hybridflow"), ["--bind", `127.0.0.1:${PORT}`, "--database", db, "--log", "warn"], { stdio: "inherit", cwd: ROOT });
  try {
    await waitHealthy();
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    await load(browser, 1); // warm the server and the disk cache
    for (const throttle of [1, 4]) {
      const runs = [];
      for (let i = 0; i < LOADS; i++) runs.push(await load(browser, throttle));
      const tti = runs.map((r) => r.tti);
      console.log(`CPU ${throttle}×: time to interactive median ${Math.round(percentile(tti, 0.5))} ms, p90 ${Math.round(percentile(tti, 0.9))} ms over ${LOADS} loads; bundle transferred ${(runs[0].bundle / 1024).toFixed(1)} KB`);
    }
    await browser.close();
  } finally {
    server.kill();
  }
})().catch((e) => { console.error(e); process.exit(1); });
