// Order worker entry (`npm run worker`): persists admitted tickets as orders and runs the
// preheat/status schedule. Any number may run; each is one consumer of the `persist` group.
import http from "node:http";
import os from "node:os";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { housekeep, runSchedule } from "@/lib/flash/scheduler";
import { OrderWorker } from "@/lib/orders/worker";
import { startSweeper } from "@/lib/orders/sweeper";
import { opsHandler } from "@/lib/ops/http";
import { preflight, readSettings } from "@/scripts/lib/preflight";
import { createRedisConnection, redis } from "@/lib/redis";
import { errorText, log as rootLog } from "@/lib/log";

readSettings("worker"); // the knobs are named even before the servers are checked
await preflight("worker");
const config = env();
const consumer = config.WORKER_NAME ?? `${os.hostname()}-${process.pid}`;
const log = rootLog.child({ component: "worker", consumer });

const worker = new OrderWorker({
  prisma: db(),
  redis: redis(),
  blocking: createRedisConnection(`worker-${consumer}`),
  consumer,
  batchSize: config.WORKER_BATCH_SIZE,
  claimIdleMs: config.WORKER_CLAIM_IDLE_MS,
  deadLetterAfter: config.WORKER_DEAD_LETTER_AFTER,
});

// Expiry sweeper, owed Redis mirrors and refunds, scheduled reconciliation (lib/orders/sweeper.ts).
const sweeper = startSweeper(db(), redis());

let scheduling = false;
const schedule = setInterval(() => {
  if (scheduling) return;
  scheduling = true;
  runSchedule(db(), redis())
    .then(() => housekeep(db(), redis(), config.FLASH_KEYS_TTL_SEC))
    .catch((e: unknown) => log.error({ err: errorText(e) }, "schedule failed"))
    .finally(() => (scheduling = false));
}, 1_000);

// Optional health listener: /healthz, /readyz (PostgreSQL and Redis answer), /metrics (METRICS_TOKEN).
let health: http.Server | undefined;
if (config.WORKER_HEALTH_PORT) {
  const ops = opsHandler({
    metricsToken: config.METRICS_TOKEN,
    checks: { postgres: () => db().$queryRaw`SELECT 1`, redis: () => redis().ping() },
  });
  health = http.createServer((req, res) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    if (ops(req, res, q === -1 ? url : url.slice(0, q))) return;
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: "NOT_FOUND" }));
  });
  health.listen(config.WORKER_HEALTH_PORT, config.HOST, () =>
    log.info({ port: config.WORKER_HEALTH_PORT }, "health listener up"),
  );
}

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "finishing the batch in hand");
  clearInterval(schedule);
  health?.close();
  sweeper.stop();
  worker.stop();
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

log.info({ batch: config.WORKER_BATCH_SIZE }, "started");
try {
  await worker.run();
  log.info({ orders: worker.ordersWritten }, "stopped");
  process.exit(0);
} catch (e) {
  log.fatal({ err: e instanceof Error ? e.stack : String(e) }, "crashed");
  process.exit(1);
}
