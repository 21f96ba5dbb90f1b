import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import type { Activity, PrismaClient } from "@/lib/generated/prisma/client";
import {
  META,
  STATS,
  activityKeys,
  ensureWorkerGroup,
  publishChange,
  writeRules,
} from "@/lib/flash/store";
import { rebuildLifecycleState } from "@/lib/orders/stock-mirror";

/** Activities are preheated this long before their start (the scheduler's lead). */
export const PREHEAT_LEAD_MS = 10 * 60_000;

export type PreheatResult = { ok: true; fresh: boolean; stock: number } | { ok: false; code: "NOT_FOUND" };

/**
 * Copies an activity's rules and stock from PostgreSQL into Redis. Idempotent: rules are
 * overwritten, but stock, buyers and the sequence are only set when Redis has none yet, so a
 * second preheat never adds units. After a Redis loss it rebuilds them from PostgreSQL.
 */
export async function preheatActivity(prisma: PrismaClient, redis: RedisClient, activityId: string): Promise<PreheatResult> {
  const a = await prisma.activity.findUnique({ where: { id: activityId } });
  if (!a) return { ok: false, code: "NOT_FOUND" };
  const keys = activityKeys(a.id);

  await writeRules(redis, a.id, {
    status: a.status,
    startMs: a.startAt.getTime(),
    endMs: a.endAt.getTime(),
    limit: a.perUserLimit,
    mode: a.deductionMode,
    paused: a.paused,
    price: a.salePrice,
    paymentWindowSec: a.paymentWindowSec,
    // The gate: is a pass required for the buy token, and how hard is the sale's challenge.
    passRequired: a.humanCheck === "REQUIRED",
    captchaDifficulty: a.captchaDifficulty,
    refuseNonPayers: a.refuseNonPayers,
  });
  const fresh = (await redis.hsetnx(keys.meta, META.stock, a.stock)) === 1;
  if (fresh) await rebuildCounters(prisma, redis, a);
  await ensureWorkerGroup(redis, a.id);
  await publishChange(redis, a.id, "preheat");
  const stock = Number(await redis.hget(keys.meta, META.stock));
  return { ok: true, fresh, stock };
}

/** Due for preheat by the scheduler's rule: upcoming or live, and starting within the lead. */
export function isPreheatDue(a: Pick<Activity, "status" | "startAt">, now = Date.now()): boolean {
  return (a.status === "SCHEDULED" || a.status === "LIVE") && a.startAt.getTime() - now <= PREHEAT_LEAD_MS;
}

/** Preheats now if due, so a sale starting soon is ready at once; null when not due. */
export async function preheatIfDue(
  prisma: PrismaClient,
  redis: RedisClient,
  a: Pick<Activity, "id" | "status" | "startAt">,
): Promise<PreheatResult | null> {
  return isPreheatDue(a) ? preheatActivity(prisma, redis, a.id) : null;
}

async function rebuildCounters(prisma: PrismaClient, redis: RedisClient, a: Activity) {
  const keys = activityKeys(a.id);
  const [buyers, last, orders, lifecycle] = await Promise.all([
    prisma.activityBuyer.findMany({ where: { activityId: a.id, units: { gt: 0 } } }),
    prisma.order.aggregate({ where: { activityId: a.id }, _max: { sequence: true } }),
    prisma.order.count({ where: { activityId: a.id } }),
    rebuildLifecycleState(prisma, a.id, a.deductionMode, a.stock),
  ]);
  const pipe = redis.multi();
  pipe.del(keys.users);
  if (buyers.length) pipe.hset(keys.users, Object.fromEntries(buyers.map((b) => [b.userId, b.units])));
  const seq = last._max.sequence ?? 0;
  pipe.hset(keys.meta, { [META.seq]: seq, [META.served]: seq });
  pipe.hsetnx(keys.stats, STATS.confirmed, orders);
  // PAYMENT mode's quota, and what the order lifecycle has already moved (so it is not mirrored twice).
  lifecycle(pipe);
  if (a.stock <= 0) pipe.hsetnx(keys.meta, META.soldOutAt, Date.now());
  await pipe.exec();
}
