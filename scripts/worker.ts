// Order worker entry (`npm run worker`): persists admitted tickets as orders and runs the
// preheat/status schedule. Any number may run; each is one consumer of the `persist` group.
import os from "node:os";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { housekeep, runSchedule } from "@/lib/flash/scheduler";
import { OrderWorker } from "@/lib/orders/worker";
import { startSweeper } from "@/lib/orders/sweeper";
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

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "finishing the batch in hand");
  clearInterval(schedule);
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
