import { defineConfig } from "@playwright/test";
import * as os from "node:os";
import * as path from "node:path";

// The tests run against the real server on its own port and a fresh SQLite file, so they
// never touch a development database or a server already on :3000. `E2E_SERVER` names the
// server's binary (`make test` gives the one its Rust tests built); by default the release
// build.
export const PORT = Number(process.env.E2E_PORT ?? 3300);
/** The demo services (`make demo-services`: `hybridflow demo-service <name>`) on the ports
 *  the "E-commerce on real services" templates call; ones already running are used. */
export const DEMO_SERVICES = { order: 4101, payment: 4102, inventory: 4103, fulfillment: 4104, email: 4105 };
export const PAYMENT_PORT = DEMO_SERVICES.payment;
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
    ...Object.entries(DEMO_SERVICES).map(([name, port]) => ({
      command: `${server} demo-service ${name} --bind 127.0.0.1:${port}`,
      url: `http://127.0.0.1:${port}/health`,
      reuseExistingServer: true,
      timeout: 60_000,
      stdout: "pipe" as const,
      stderr: "pipe" as const,
    })),
  ],
});
