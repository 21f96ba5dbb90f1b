import { spawn } from "node:child_process";
import net, { type AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { nodeArgs } from "@/scripts/lib/procs";
import { startWeb, type TestWeb } from "../support/web";

const TOKEN = "metrics-token-for-tests-0123456789";
const webs: TestWeb[] = [];
const clients: Redis[] = [];
afterAll(async () => {
  for (const w of webs) await w.close();
  for (const c of clients) c.disconnect();
});

async function web(checks: Record<string, () => Promise<unknown>>, metricsToken?: string) {
  const w = await startWeb({ ops: { metricsToken, checks, readyTimeoutMs: 1_000 } });
  webs.push(w);
  return w;
}
const postgres = () => db().$queryRaw`SELECT 1`;

/** A port nothing listens on (free when probed). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });

describe("operations endpoints of the web process", () => {
  it("/metrics answers only the bearer token, 404 without one configured, and never reaches Next.js", async () => {
    const w = await web({ postgres, redis: () => redis().ping() }, TOKEN);
    expect((await fetch(`${w.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${w.url}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
    expect((await fetch(`${w.url}/metrics`, { headers: { authorization: TOKEN } })).status).toBe(401);
    const ok = await fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/plain");
    const text = await ok.text();
    for (const name of ["flash_admission_seconds", "flash_refusals_total", "worker_batch_size", "worker_batch_errors_total"]) {
      expect(text).toContain(`# TYPE ${name}`);
    }

    const closed = await web({ postgres });
    expect((await fetch(`${closed.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect(w.nextCalls.concat(closed.nextCalls)).toEqual([]);
  });

  it("/healthz answers while the process is up; /readyz answers 503 once Redis is down", async () => {
    const up = await web({ postgres, redis: () => redis().ping() });
    expect(await (await fetch(`${up.url}/healthz`)).json()).toEqual({ status: "ok" });
    // Readiness checks each store within a deadline; a loaded machine may miss one at first, so ask until ready.
    await expect.poll(async () => (await fetch(`${up.url}/readyz`)).status, { timeout: 20_000, interval: 500 }).toBe(200);
    expect(await (await fetch(`${up.url}/readyz`)).json()).toEqual({ ok: true, checks: { postgres: "ok", redis: "ok" } });

    // A Redis that is down: a client of an address where nothing listens any more.
    const port = await freePort();
    const gone = new Redis({ host: "127.0.0.1", port, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    clients.push(gone);
    gone.on("error", () => {});
    const down = await web({ postgres, redis: () => gone.ping() });
    expect((await fetch(`${down.url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${down.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ok: false, checks: { postgres: "ok", redis: "down" } });
  });
});

describe("the worker's health listener", () => {
  it("answers /healthz, /readyz and /metrics (bearer token) on WORKER_HEALTH_PORT", async () => {
    const port = await freePort();
    const child = spawn(...nodeArgs("scripts/worker.ts"), {
      env: { ...process.env, WORKER_NAME: `health-${port}`, WORKER_HEALTH_PORT: String(port), HOST: "127.0.0.1", METRICS_TOKEN: TOKEN },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const exited = new Promise((r) => child.once("exit", r));
    const base = `http://127.0.0.1:${port}`;
    try {
      // Until the worker has started, nothing listens: connection refused.
      await expect
        .poll(() => fetch(`${base}/healthz`).then((r) => r.status, () => 0), { timeout: 60_000, interval: 50 })
        .toBe(200);
      expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ ok: true, checks: { postgres: "ok", redis: "ok" } });
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain("# TYPE worker_batch_size histogram");
      expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});
