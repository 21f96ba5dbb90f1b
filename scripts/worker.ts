// Order worker entry (`npm run worker`): persists admitted tickets as orders and runs the
// preheat/status schedule. Any number may run; each is one consumer of the `persist` group.
import os from "node:os";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { runSchedule } from "@/lib/flash/scheduler";
import { OrderWorker } from "@/lib/orders/worker";
import { startSweeper } from "@/lib/orders/sweeper";
import { preflight } from "@/scripts/lib/preflight";
import { createRedisConnection, redis } from "@/lib/redis";

await preflight("worker");
const config = env();
const consumer = process.env.WORKER_NAME ?? `${os.hostname()}-${process.pid}`;
const log = (line: string) => console.log(`[worker ${consumer}] ${line}`);

const worker = new OrderWorker({
  prisma: db(),
  redis: redis(),
  blocking: createRedisConnection(`worker-${consumer}`),
  consumer,
  batchSize: config.WORKER_BATCH_SIZE,
  claimIdleMs: Number(process.env.WORKER_CLAIM_IDLE_MS ?? 15_000),
  log,
});

// Expiry sweeper, owed Redis mirrors and refunds, scheduled reconciliation (lib/orders/sweeper.ts).
const sweeper = startSweeper(db(), redis());

let scheduling = false;
const schedule = setInterval(() => {
  if (scheduling) return;
  scheduling = true;
  runSchedule(db(), redis())
    .catch((e: unknown) => log(`schedule failed: ${e instanceof Error ? e.message : String(e)}`))
    .finally(() => (scheduling = false));
}, 1_000);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: finishing the batch in hand`);
  clearInterval(schedule);
  sweeper.stop();
  worker.stop();
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

log(`started (batch ${config.WORKER_BATCH_SIZE})`);
try {
  await worker.run();
  log(`stopped after writing ${worker.ordersWritten} orders`);
  process.exit(0);
} catch (e) {
  log(`crashed: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
}
