import "server-only";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { sellableUnits } from "@/lib/catalog/stock";
import {
  activityKeys,
  decodeLatency,
  readSplitState,
  decodeStats,
  holdingStatuses,
  readDeadLetters,
  readLatencies,
  readWorkerGroup,
  spendsQuota,
  type Counters,
  type DeadLetter,
  type WorkerGroup,
} from "@/lib/flash/store";
import { latestStateRun } from "@/lib/flash/reconcile";
import type { DeductionMode, OrderStatus } from "@/lib/generated/prisma/enums";
import { idSchema } from "@/lib/admin/schemas";
import { readChannelState } from "@/lib/channels";

/** Latency samples older than this are from a process that stopped answering buys: left out. */
export const LATENCY_FRESH_MS = 5_000;

export interface DashboardSnapshot {
  at: number;
  activity: {
    id: string;
    slug: string;
    title: string;
    status: string;
    paused: boolean;
    startAt: string;
    endAt: string;
    totalStock: number;
    sellable: number;
    mode: DeductionMode;
    perUserLimit: number;
  };
  /** Admission state in Redis; null until the activity is preheated. */
  redis: {
    status: string;
    paused: boolean;
    stockLeft: number;
    quota: number | null;
    admittedTickets: number;
    servedTickets: number;
    queueTickets: number;
    queueUnits: number;
    soldOutAt: string | null;
  } | null;
  /** Counters in {act:ID}:stats; refusals answered in-process arrive within a second (FlashCore.flushMetrics). */
  counters: Counters;
  /** PostgreSQL: the source of truth for stock and orders. */
  db: {
    stock: number;
    soldOutAt: string | null;
    orders: number;
    orderUnits: number;
    holdingOrders: number;
    holdingUnits: number;
    byStatus: Partial<Record<OrderStatus, { orders: number; units: number }>>;
  };
  /** The order workers' consumer group on the activity's stream. */
  worker: WorkerGroup | null;
  /** p95 of the admission round trip, the worst over web processes that reported in the last few seconds. */
  latency: { p95Ms: number | null; samples: number; processes: number };
  /**
   * I4: units offered (PostgreSQL stock + units in holding orders) against Redis stock + units in
   * queue + units in holding orders. Exact once the queue is empty; while it drains, a batch
   * written but not yet answered in Redis is briefly counted twice.
   */
  conservation: { offered: number; accounted: number; settled: boolean } | null;
  /**
   * Durability (docs/durability.md): the sale's Redis generation and whether admission may use it,
   * the workers' dead letters (all sales), and the last Redis-vs-PostgreSQL reconciliation.
   */
  durability: {
    epoch: number;
    ready: boolean;
    deadLetters: { count: number; latest: DeadLetter[] };
    reconcile: Awaited<ReturnType<typeof latestStateRun>>;
  };
  /** Fair entry (docs/fair-entry.md): the draw's commitment and reveal, units held, the waitlist. */
  fair: {
    commitment: string | null;
    drawnAt: string | null;
    /** The seed, once revealed (after the draw). */
    seed: string | null;
    entries: number;
    drawHeld: number;
    waiting: number;
    offers: number;
  };
  /**
   * Channels (docs/channels.md): per channel its share, units left in Redis, units admitted through it,
   * and units its orders hold in PostgreSQL; the common pool is the counter less every channel's left.
   */
  channels: {
    rows: { channel: string; share: number; left: number; admitted: number; holdingUnits: number }[];
    pool: number;
    borrowAfterSec: number | null;
  } | null;
}

export async function readDashboard(activityId: string, now = Date.now()): Promise<DashboardSnapshot | null> {
  if (!idSchema.safeParse(activityId).success) return null;
  const keys = activityKeys(activityId);

  // Each store read once, consistently: a worker's batch moves stock and writes orders in one
  // transaction, so the activity's stock and the order totals come from one snapshot (read apart,
  // a batch committed in between counted its units twice: "24 offered" for a 20-unit sale); meta
  // and stats change together in the Lua scripts, so they are read in one MULTI.
  const [pg, redisReply, groups, latencies, deadLetters, reconcile, draw, entries, chan, chanOrders] = await Promise.all([
    db().$transaction(
      async (tx) => {
        const activity = await tx.activity.findUnique({ where: { id: activityId } });
        const statuses = await tx.order.groupBy({
          by: ["status"],
          where: { activityId },
          _count: { _all: true },
          _sum: { quantity: true },
        });
        return [activity, statuses] as const;
      },
      { isolationLevel: "RepeatableRead" },
    ),
    redis().multi().hgetall(keys.meta).hgetall(keys.stats).zcard(keys.waitlist).hlen(keys.offers).exec(),
    readWorkerGroup(redis(), activityId),
    readLatencies(redis()),
    readDeadLetters(redis()),
    latestStateRun(db()),
    db().draw.findUnique({ where: { activityId }, select: { commitment: true, drawnAt: true, seed: true } }),
    db().drawEntry.count({ where: { activityId } }),
    readChannelState(redis(), activityId),
    db().order.groupBy({ by: ["channel", "status"], where: { activityId, channel: { not: null } }, _sum: { quantity: true } }),
  ]);
  const [a, byStatus] = pg;
  if (!a) return null;
  // A split stock's segments are summed (read after the MULTI: they sit in slots of their own).
  const meta = await readSplitState(redis(), activityId, (redisReply?.[0]?.[1] ?? {}) as Record<string, string>);
  const counters = decodeStats((redisReply?.[1]?.[1] ?? {}) as Record<string, string>);

  const queueUnits = Math.max(0, counters.admittedUnits - counters.confirmedUnits - counters.rejectedUnits);
  const redisView = meta?.preheated
    ? {
        status: meta.status,
        paused: meta.paused,
        stockLeft: meta.stock,
        quota: spendsQuota(a.deductionMode) ? meta.quota : null,
        admittedTickets: meta.admitted,
        servedTickets: meta.served,
        queueTickets: Math.max(0, meta.admitted - meta.served),
        queueUnits,
        soldOutAt: meta.soldOutAt ? new Date(meta.soldOutAt).toISOString() : null,
      }
    : null;

  const holding = new Set(holdingStatuses(a.deductionMode));
  const dbView: DashboardSnapshot["db"] = {
    stock: a.stock,
    soldOutAt: a.soldOutAt?.toISOString() ?? null,
    orders: 0,
    orderUnits: 0,
    holdingOrders: 0,
    holdingUnits: 0,
    byStatus: {},
  };
  for (const row of byStatus) {
    const orders = row._count._all;
    const units = row._sum.quantity ?? 0;
    dbView.byStatus[row.status] = { orders, units };
    dbView.orders += orders;
    dbView.orderUnits += units;
    if (holding.has(row.status)) {
      dbView.holdingOrders += orders;
      dbView.holdingUnits += units;
    }
  }

  return {
    at: now,
    activity: {
      id: a.id,
      slug: a.slug,
      title: a.title,
      status: a.status,
      paused: a.paused,
      startAt: a.startAt.toISOString(),
      endAt: a.endAt.toISOString(),
      totalStock: a.totalStock,
      sellable: sellableUnits(a.totalStock, a.safetyStockPct),
      mode: a.deductionMode,
      perUserLimit: a.perUserLimit,
    },
    redis: redisView,
    counters,
    db: dbView,
    worker: groups,
    latency: combineLatency(latencies, now),
    conservation:
      redisView && !spendsQuota(a.deductionMode)
        ? {
            offered: a.stock + dbView.holdingUnits,
            accounted: redisView.stockLeft + redisView.queueUnits + dbView.holdingUnits,
            settled: redisView.queueTickets === 0,
          }
        : null,
    durability: {
      epoch: meta?.epoch ?? 0,
      ready: meta !== null,
      deadLetters,
      reconcile: reconcile && { ...reconcile, drift: reconcile.drift.filter((d) => d.activityId === activityId) },
    },
    fair: {
      commitment: draw?.commitment ?? null,
      drawnAt: draw?.drawnAt?.toISOString() ?? null,
      seed: draw?.drawnAt ? draw.seed : null,
      entries,
      drawHeld: meta?.drawUntilMs && now < meta.drawUntilMs ? meta.drawHeld : 0,
      waiting: Number(redisReply?.[2]?.[1] ?? 0),
      offers: Number(redisReply?.[3]?.[1] ?? 0),
    },
    channels: chan && {
      rows: chan.channels.map((c) => ({
        ...c,
        holdingUnits: chanOrders.filter((o) => o.channel === c.channel && holding.has(o.status)).reduce((n, o) => n + (o._sum.quantity ?? 0), 0),
      })),
      pool: Math.max(0, (meta?.left ?? 0) - chan.alloc),
      borrowAfterSec: chan.borrowAfterMs === null ? null : chan.borrowAfterMs / 1000,
    },
  };
}

export function combineLatency(entries: Record<string, string>, now: number): DashboardSnapshot["latency"] {
  let p95: number | null = null;
  let samples = 0;
  let processes = 0;
  for (const raw of Object.values(entries)) {
    const e = decodeLatency(raw);
    // A malformed report, or one from a process that stopped answering buys, is left out.
    if (!e || now - e.at > LATENCY_FRESH_MS) continue;
    // p95s of different processes cannot be merged exactly; the worst one is the honest summary.
    p95 = Math.max(p95 ?? 0, e.p95);
    samples += e.n;
    processes++;
  }
  return { p95Ms: p95 === null ? null : Math.round(p95 * 100) / 100, samples, processes };
}
