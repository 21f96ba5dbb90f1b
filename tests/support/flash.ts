import { randomBytes } from "node:crypto";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { connectRedis, type RedisClient } from "@/lib/redis-connect";
import { FlashCore } from "@/lib/flash/core";
import { readSaleSnapshot, waitForDrain } from "@/lib/flash/invariants";
import { preheatActivity } from "@/lib/flash/preheat";
import { buyToken } from "@/lib/flash/token";
import { OrderWorker } from "@/lib/orders/worker";
import type { DeductionMode } from "@/lib/generated/prisma/enums";

export const TOKEN_SECRET = process.env.FLASH_TOKEN_SECRET!;
const PASSWORD_HASH = "$2b$10$XzRMQlgrsEVf7F.OGrs6QO3sNda36isdusnICrGqqOtJtCglu46wa";

const uniq = () => randomBytes(5).toString("hex");

export async function createUsers(n: number): Promise<string[]> {
  const tag = uniq();
  const data = Array.from({ length: n }, (_, i) => ({
    id: `u${tag}${String(i).padStart(6, "0")}`,
    email: `it-${tag}-${i}@flash.test`,
    name: `IT ${i}`,
    passwordHash: PASSWORD_HASH,
  }));
  for (let i = 0; i < data.length; i += 5000) await db().user.createMany({ data: data.slice(i, i + 5000) });
  return data.map((u) => u.id);
}

export interface TestActivity {
  id: string;
  startMs: number;
  stock: number;
  limit: number;
}

/** A live (or future) activity in PostgreSQL, preheated into Redis. */
export async function createActivity(opts: {
  stock: number;
  limit?: number;
  startInMs?: number;
  mode?: DeductionMode;
  preheat?: boolean;
  /** Fair entry: a pre-queue of this many minutes before the start. */
  prequeueMinutes?: number;
  /** Segments of the Redis stock counter (activities.stock_segments); default 1, not split. */
  segments?: number;
  /** The Redis the preheat writes to (default: the app's). */
  redis?: RedisClient;
  /** Channels (docs/channels.md): each channel's share of the stock; and when an empty one may borrow. */
  channels?: Record<string, number>;
  borrowAfterSec?: number;
}): Promise<TestActivity> {
  const tag = uniq();
  const product = await db().product.create({
    data: { slug: `it-product-${tag}`, name: `IT product ${tag}`, listPrice: 10000 },
  });
  const startAt = new Date(Date.now() + (opts.startInMs ?? -1000));
  const a = await db().activity.create({
    data: {
      slug: `it-sale-${tag}`,
      title: `IT sale ${tag}`,
      productId: product.id,
      salePrice: 990,
      startAt,
      endAt: new Date(startAt.getTime() + 3600_000),
      totalStock: opts.stock,
      stock: opts.stock,
      perUserLimit: opts.limit ?? 1,
      deductionMode: opts.mode ?? "ORDER",
      stockSegments: opts.segments ?? 1,
      status: (opts.startInMs ?? -1000) <= 0 ? "LIVE" : "SCHEDULED",
      prequeueMinutes: opts.prequeueMinutes ?? 0,
      channelBorrowAfterSec: opts.borrowAfterSec ?? null,
    },
  });
  if (opts.channels) {
    await db().saleChannel.createMany({ data: Object.entries(opts.channels).map(([channel, share]) => ({ activityId: a.id, channel, share })) });
  }
  if (opts.preheat !== false) await preheatActivity(db(), opts.redis ?? redis(), a.id);
  return { id: a.id, startMs: startAt.getTime(), stock: opts.stock, limit: opts.limit ?? 1 };
}

export function tokenFor(a: TestActivity, userId: string): string {
  return buyToken(TOKEN_SECRET, a.id, a.startMs, userId);
}

/** Several cores, each with its own Redis connection, like several web processes. */
export function createCores(n: number): { cores: FlashCore[]; close(): void } {
  const conns = Array.from({ length: n }, () => connectRedis(process.env.REDIS_URL!, { enableAutoPipelining: true }));
  return {
    cores: conns.map((c) => new FlashCore(c, TOKEN_SECRET, { stateTtlMs: 50 })),
    close: () => conns.forEach((c) => c.disconnect()),
  };
}

/** `n` order workers running in this process, like the worker processes in production. */
export function startOrderWorkers(n: number, o: { batchSize: number; claimIdleMs: number }): { stop(): Promise<void> } {
  const blocking = Array.from({ length: n }, () => connectRedis(process.env.REDIS_URL!, { maxRetriesPerRequest: null }));
  const workers = blocking.map(
    (b, i) => new OrderWorker({ prisma: db(), redis: redis(), blocking: b, consumer: `it-${uniq()}-${i}`, ...o }),
  );
  const runs = workers.map((w) => w.run());
  return {
    async stop() {
      workers.forEach((w) => w.stop());
      await Promise.all(runs);
      blocking.forEach((b) => b.disconnect());
    },
  };
}

/** Waits until every admitted ticket of the activity has its final answer and the workers acknowledged it. */
export async function waitUntilServed(activityId: string, timeoutMs = 60_000): Promise<void> {
  if (!(await waitForDrain(redis(), activityId, timeoutMs)).drained) throw new Error(`queue of ${activityId} not drained in ${timeoutMs} ms`);
}

/** Runs `n` in-process order workers until every admitted ticket of the activity has its final answer. */
export async function drain(activityId: string, n = 2, timeoutMs = 60_000): Promise<void> {
  const workers = startOrderWorkers(n, { batchSize: 100, claimIdleMs: 1000 });
  try {
    await waitUntilServed(activityId, timeoutMs);
  } finally {
    await workers.stop();
  }
}

/** Everything the invariants I1–I4 are stated over, read straight from PostgreSQL and Redis. */
export const snapshot = (activityId: string) => readSaleSnapshot(db(), redis(), activityId);
