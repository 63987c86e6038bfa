import { defineConfig } from "@playwright/test";
import * as os from "node:os";
import * as path from "node:path";

// The tests run against the real server on its own port and a fresh SQLite file, so they
// never touch a development database or a server already on :3000. `E2E_SERVER` names the
// server's binary (`make test` gives the one its Rust tests built); by default the release
// build.
export const PORT = Number(process.env.E2E_PORT ?? 3300);
/** The demo Payment service (`hybridflow demo-service payment`) steps can be bound to. */
export const PAYMENT_PORT = PORT + 2;
const server = process.env.E2E_SERVER ?? "../target/release/hybridflow";
const database = path.join(os.tmpdir(), `hybridflow-e2e-${process.pid}-${Date.now()}.db`);

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: `${server} --bind 127.0.0.1:${PORT} --database ${database} --log warn`,
      url: `http://127.0.0.1:${PORT}/api/health`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command: `${server} demo-service payment --bind 127.0.0.1:${PAYMENT_PORT}`,
      url: `http://127.0.0.1:${PAYMENT_PORT}/health`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
