import "server-only";
import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "@/lib/redis-connect";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import type { DeductionMode, OrderStatus } from "@/lib/generated/prisma/enums";
import { META, activityKeys, mirrorLifecycle, quotaFor, spendsQuota } from "@/lib/flash/store";
import { redisTarget } from "@/lib/orders/lifecycle";
import { env } from "@/lib/env";

// The order lifecycle's side of Redis: which target each order has (PostgreSQL decides), mirrored by the store.

interface Owed {
  id: string;
  version: string;
  activityId: string;
  quantity: number;
  status: OrderStatus;
  mode: DeductionMode;
  presale: boolean;
}

/**
 * Brings Redis to what PostgreSQL says for orders whose stock move is still owed to Redis, then clears
 * their flag (only if the order has not moved on meanwhile; then the next pass mirrors the newer state).
 * Returns the number of orders mirrored.
 */
export async function mirrorOwedStock(
  prisma: PrismaClient,
  client: RedisClient,
  opts: { orderIds?: string[]; limit?: number } = {},
): Promise<number> {
  const only = opts.orderIds ?? null;
  const owed = await prisma.$queryRaw<Owed[]>`
    SELECT o.id, o.activity_id AS "activityId", o.quantity, o.status::text AS status, a.deduction_mode::text AS mode,
           o.deposit IS NOT NULL AS presale, (extract(epoch FROM o.updated_at) * 1000)::bigint::text AS version
    FROM orders o JOIN activities a ON a.id = o.activity_id
    WHERE o.redis_owed AND (${only}::text[] IS NULL OR o.id = ANY(${only}::text[]))
    LIMIT ${opts.limit ?? 1000}`;
  if (owed.length === 0) return 0;
  const byActivity = new Map<string, Owed[]>();
  for (const o of owed) byActivity.set(o.activityId, [...(byActivity.get(o.activityId) ?? []), o]);
  for (const [activityId, orders] of byActivity) {
    await mirrorLifecycle(
      client,
      activityId,
      orders.map((o) => ({ orderId: o.id, version: o.version, ...redisTarget(o.mode, o.status, o.quantity, o.presale) })),
    );
  }
  await prisma.$executeRaw`
    UPDATE orders o SET redis_owed = false
    FROM unnest(${owed.map((o) => o.id)}::text[], ${owed.map((o) => o.status)}::text[]) AS m(id, status)
    WHERE o.id = m.id AND o.status::text = m.status AND o.redis_owed`;
  return owed.length;
}

/** PAYMENT mode: orders to admit for `units` more units when `sold` are held, at the configured over-admission. */
export function paymentQuota(units: number, sold = 0): number {
  return quotaFor(units, sold, env().PAYMENT_OVER_ADMISSION);
}

/**
 * Part of a preheat that rebuilds a sale's Redis state from PostgreSQL: PostgreSQL's stock already
 * holds every lifecycle move, so each order's target is recorded as applied (a mirror still owed
 * then changes nothing), and in PAYMENT mode the quota is what the sellable units allow minus the
 * orders that hold admission (pending or paid). Reads first, then returns the writes to queue on the
 * preheat's MULTI (nothing may be awaited while a MULTI is being built).
 */
export async function rebuildLifecycleState(
  prisma: Pick<PrismaClient, "order">,
  activityId: string,
  mode: DeductionMode,
  stock: number,
): Promise<(pipe: ChainableCommander) => void> {
  const orders = await prisma.order.findMany({
    where: { activityId },
    select: { id: true, status: true, quantity: true, updatedAt: true, deposit: true },
  });
  const applied: Record<string, string> = {};
  for (const o of orders) {
    const t = redisTarget(mode, o.status, o.quantity, o.deposit !== null);
    if (t.stock !== 0 || t.quota !== 0) applied[o.id] = `${t.stock}:${t.quota}:${o.updatedAt.getTime()}`;
  }
  const units = (s: OrderStatus[]) => orders.filter((o) => s.includes(o.status)).reduce((n, o) => n + o.quantity, 0);
  const paid = units(["PAID"]);
  const pending = units(["PENDING_PAYMENT"]);
  // Sellable = stock left + paid units; admissions held = pending + paid orders.
  const quota = paymentQuota(stock - pending, paid + pending);
  return (pipe) => {
    const keys = activityKeys(activityId);
    pipe.del(keys.lifecycle);
    if (Object.keys(applied).length) pipe.hset(keys.lifecycle, applied);
    if (spendsQuota(mode)) pipe.hset(keys.meta, META.quota, quota);
  };
}
