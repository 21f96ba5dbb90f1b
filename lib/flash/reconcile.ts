import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import type { Prisma, PrismaClient } from "@/lib/generated/prisma/client";
import { PREHEAT_LEAD_MS, rebuildSaleState, staleReason } from "@/lib/flash/preheat";
import { RESERVATION_STALE_MS, activityKeys, countReservations, readSplitState, readState, readWorkerGroup, spendsQuota, sweepReservations } from "@/lib/flash/store";
import { log } from "@/lib/log";
import { countDrift } from "@/lib/ops/metrics";

/** The `provider` of the reconciliation runs this module records (the payments' runs name their provider). */
export const STATE_RECONCILER = "redis-state";

export interface StateDrift {
  activityId: string;
  /** NOT_READY/EPOCH/BEHIND/NODE: staleReason; STOCK/USERS: counters off while the queue is empty; QUEUED: tickets no worker will read. */
  kind: "NOT_READY" | "EPOCH" | "BEHIND" | "NODE" | "STOCK" | "USERS" | "QUEUED";
  detail: string;
  repaired: boolean;
}

export interface StateRun {
  checked: number;
  repaired: number;
  drift: StateDrift[];
}

type Signature = string;
/** Counter drift seen on the previous pass, per sale: repaired only when a second pass sees the same. */
const seenBefore = new Map<string, Signature>();

/**
 * Reconciliation of the sales' Redis state with PostgreSQL (docs/durability.md): every sale that is
 * open or preheated, and every sale over for less than `ttlSec` (its keys should still be there).
 * A state that cannot be trusted (staleReason) is rebuilt at once; counters off while the sale's
 * queue is empty (stock, units per user), and queued tickets no worker will ever read, are repaired
 * by a rebuild once two passes in a row saw the same difference (a restock in flight is not drift).
 * Records the run (reconciliation_runs, provider STATE_RECONCILER) for the dashboard.
 */
export async function reconcileSaleStates(
  prisma: PrismaClient,
  redis: RedisClient,
  opts: { ttlSec: number; now?: Date; only?: string[] } = { ttlSec: 86_400 },
): Promise<StateRun> {
  const now = opts.now ?? new Date();
  const since = new Date(now.getTime() - opts.ttlSec * 1000);
  const sales = await prisma.activity.findMany({
    where: {
      ...(opts.only ? { id: { in: opts.only } } : {}),
      OR: [
        { status: { in: ["SCHEDULED", "LIVE"] }, startAt: { lte: new Date(now.getTime() + PREHEAT_LEAD_MS) } },
        { status: { in: ["ENDED", "CANCELLED"] }, OR: [{ endAt: { gte: since } }, { updatedAt: { gte: since } }] },
      ],
    },
    select: { id: true },
  });
  const started = new Date();
  const drift: StateDrift[] = [];
  for (const { id } of sales) drift.push(...(await reconcileSale(prisma, redis, id)));
  const repaired = drift.filter((d) => d.repaired).length;
  for (const d of drift) countDrift(d.kind);
  await prisma.reconciliationRun.create({
    data: {
      provider: STATE_RECONCILER,
      startedAt: started,
      finishedAt: new Date(),
      checked: sales.length,
      repaired,
      issues: drift as unknown as Prisma.InputJsonValue,
    },
  });
  if (drift.length) log.warn({ component: "reconcile", checked: sales.length, repaired, drift }, "sale state drift");
  return { checked: sales.length, repaired, drift };
}

/** One sale: its differences, each marked repaired or not. */
export async function reconcileSale(prisma: PrismaClient, redis: RedisClient, activityId: string): Promise<StateDrift[]> {
  const stale = await staleReason(prisma, redis, activityId);
  const segments = stale ? 1 : ((await readState(redis, activityId))?.segments ?? 1);
  // A split stock: reservations whose web process died between its steps give their units back first.
  if (segments > 1) await sweepReservations(redis, activityId, segments, Date.now() - RESERVATION_STALE_MS);
  if (stale) {
    const done = await rebuildSaleState(prisma, redis, activityId);
    seenBefore.delete(activityId);
    return [{ activityId, kind: stale, detail: done ? `rebuilt as generation ${done.epoch}, ${done.lost} queued tickets lost` : "rebuilt meanwhile", repaired: true }];
  }
  const found = await counterDrift(prisma, redis, activityId);
  if (found.length === 0) {
    seenBefore.delete(activityId);
    return [];
  }
  const signature = JSON.stringify(found);
  const confirmed = seenBefore.get(activityId) === signature;
  seenBefore.set(activityId, signature);
  if (!confirmed) return found.map((d) => ({ ...d, repaired: false }));
  const epoch = (await readState(redis, activityId))?.epoch ?? -1;
  const done = await rebuildSaleState(prisma, redis, activityId, { onlyFrom: epoch });
  seenBefore.delete(activityId);
  return found.map((d) => ({ ...d, repaired: done !== null }));
}

/**
 * Counter differences of a sound state, looked for only when they can be judged: no queued ticket
 * (seq = served), no lifecycle move owed to Redis, and PostgreSQL the same before and after Redis
 * was read (one MULTI, so the Redis side is one moment).
 */
async function counterDrift(prisma: PrismaClient, redis: RedisClient, activityId: string): Promise<Omit<StateDrift, "repaired">[]> {
  const readPg = async () => {
    const [a, buyers, owed] = await Promise.all([
      prisma.activity.findUniqueOrThrow({ where: { id: activityId }, select: { stock: true, deductionMode: true } }),
      prisma.activityBuyer.findMany({ where: { activityId, units: { gt: 0 } }, select: { userId: true, units: true } }),
      prisma.order.count({ where: { activityId, redisOwed: true } }),
    ]);
    return { ...a, owed, buyers: new Map(buyers.map((b) => [b.userId, b.units])) };
  };
  const keys = activityKeys(activityId);
  const before = await readPg();
  const reply = await redis.multi().hgetall(keys.meta).hgetall(keys.users).exec();
  const after = await readPg();
  const users = (reply?.[1]?.[1] ?? {}) as Record<string, string>;
  const meta = await readSplitState(redis, activityId, (reply?.[0]?.[1] ?? {}) as Record<string, string>);
  if (!meta) return [];
  // A split-stock admission between its steps holds units the counters cannot be judged by yet.
  if (meta.segments > 1 && (await countReservations(redis, activityId)) > 0) return [];
  const out: Omit<StateDrift, "repaired">[] = [];
  if (meta.admitted > meta.served) {
    // Queued tickets are fine while the workers have them to read; none to read means none will be answered.
    const group = await readWorkerGroup(redis, activityId);
    if (group && group.pending === 0 && group.lag === 0) {
      out.push({ activityId, kind: "QUEUED", detail: `${meta.admitted - meta.served} tickets queued, none in the stream` });
    }
    return out;
  }
  const same = before.stock === after.stock && before.owed === 0 && after.owed === 0 &&
    JSON.stringify([...before.buyers]) === JSON.stringify([...after.buyers]);
  if (!same) return out;
  if (!spendsQuota(after.deductionMode) && meta.stock !== after.stock) {
    out.push({ activityId, kind: "STOCK", detail: `Redis ${meta.stock}, PostgreSQL ${after.stock}` });
  }
  const off: string[] = [];
  for (const u of new Set([...Object.keys(users), ...after.buyers.keys()])) {
    const r = Number(users[u] ?? 0);
    const p = after.buyers.get(u) ?? 0;
    if (r !== p) off.push(`${u}: Redis ${r}, PostgreSQL ${p}`);
  }
  if (off.length) out.push({ activityId, kind: "USERS", detail: `${off.length} users off (${off.slice(0, 3).join("; ")})` });
  return out;
}

/** The latest run of the state reconciliation, for the dashboard. */
export async function latestStateRun(prisma: PrismaClient) {
  const run = await prisma.reconciliationRun.findFirst({ where: { provider: STATE_RECONCILER }, orderBy: { startedAt: "desc" } });
  return run && { at: (run.finishedAt ?? run.startedAt).toISOString(), checked: run.checked, repaired: run.repaired, drift: run.issues as unknown as StateDrift[] };
}
