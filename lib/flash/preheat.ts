import "server-only";
import type { Redis } from "ioredis";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import type { DeductionMode } from "@/lib/generated/prisma/enums";
import { ACTIVE_SET, EVENTS_CHANNEL, WORKER_GROUP, activityKeys } from "@/lib/flash/keys";
import { rebuildLifecycleState } from "@/lib/orders/stock-mirror";

export type PreheatResult = { ok: true; fresh: boolean; stock: number } | { ok: false; code: "NOT_FOUND" };

/**
 * Copies an activity's rules and stock from PostgreSQL into Redis. Idempotent: rules are
 * overwritten, but stock, buyers and the sequence are only set when Redis has none yet, so a
 * second preheat never adds units. After a Redis loss it rebuilds them from PostgreSQL.
 */
export async function preheatActivity(prisma: PrismaClient, redis: Redis, activityId: string): Promise<PreheatResult> {
  const a = await prisma.activity.findUnique({ where: { id: activityId } });
  if (!a) return { ok: false, code: "NOT_FOUND" };
  const keys = activityKeys(a.id);

  await redis.hset(keys.meta, {
    status: a.status,
    start: a.startAt.getTime(),
    end: a.endAt.getTime(),
    limit: a.perUserLimit,
    mode: a.deductionMode,
    paused: a.paused ? "1" : "0",
    price: a.salePrice,
    paywin: a.paymentWindowSec,
    nonpay: a.refuseNonPayers ? "1" : "0",
  });
  const fresh = (await redis.hsetnx(keys.meta, "stock", a.stock)) === 1;
  if (fresh) await rebuildCounters(prisma, redis, a.id, a.stock, a.deductionMode);
  try {
    await redis.xgroup("CREATE", keys.stream, WORKER_GROUP, "0", "MKSTREAM");
  } catch (e) {
    if (!String(e).includes("BUSYGROUP")) throw e;
  }
  await redis.sadd(ACTIVE_SET, a.id);
  await redis.publish(EVENTS_CHANNEL, JSON.stringify({ activityId: a.id, event: "preheat" }));
  const stock = Number(await redis.hget(keys.meta, "stock"));
  return { ok: true, fresh, stock };
}

async function rebuildCounters(prisma: PrismaClient, redis: Redis, activityId: string, stock: number, mode: DeductionMode) {
  const keys = activityKeys(activityId);
  const [buyers, last, orders, lifecycle] = await Promise.all([
    prisma.activityBuyer.findMany({ where: { activityId, units: { gt: 0 } } }),
    prisma.order.aggregate({ where: { activityId }, _max: { sequence: true } }),
    prisma.order.count({ where: { activityId } }),
    rebuildLifecycleState(prisma, activityId, mode, stock),
  ]);
  const pipe = redis.multi();
  pipe.del(keys.users);
  if (buyers.length) pipe.hset(keys.users, Object.fromEntries(buyers.map((b) => [b.userId, b.units])));
  const seq = last._max.sequence ?? 0;
  pipe.hset(keys.meta, { seq, served: seq });
  pipe.hsetnx(keys.stats, "confirmed", orders);
  // PAYMENT mode's quota, and what the order lifecycle has already moved (so it is not mirrored twice).
  lifecycle(pipe);
  if (stock <= 0) pipe.hsetnx(keys.meta, "soldOutAt", Date.now());
  await pipe.exec();
}
