import "server-only";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { WORKER_GROUP, activityKeys } from "@/lib/flash/keys";
import type { DeductionMode, OrderStatus } from "@/lib/generated/prisma/enums";
import { idSchema, sellableOf } from "@/lib/admin/schemas";

/** Latency samples older than this are from a process that stopped answering buys: left out. */
export const LATENCY_FRESH_MS = 5_000;

/** Order states that hold units of stock (I1, I4): taken at admission, or at payment in PAYMENT mode. */
export function holdingStatuses(mode: DeductionMode): OrderStatus[] {
  return mode === "PAYMENT" ? ["PAID"] : ["PENDING_PAYMENT", "PAID"];
}

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
  counters: {
    admitted: number;
    admittedUnits: number;
    confirmed: number;
    confirmedUnits: number;
    rejected: number;
    rejectedUnits: number;
    refused: Record<string, number>;
    refusedTotal: number;
  };
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
  worker: { lag: number | null; pending: number; consumers: number } | null;
  /** p95 of the admission round trip, the worst over web processes that reported in the last few seconds. */
  latency: { p95Ms: number | null; samples: number; processes: number };
  /**
   * I4: units offered (PostgreSQL stock + units in holding orders) against Redis stock + units in
   * queue + units in holding orders. Exact once the queue is empty; while it drains, a batch
   * written but not yet answered in Redis is briefly counted twice.
   */
  conservation: { offered: number; accounted: number; settled: boolean } | null;
}

export async function readDashboard(activityId: string, now = Date.now()): Promise<DashboardSnapshot | null> {
  if (!idSchema.safeParse(activityId).success) return null;
  const prisma = db();
  const a = await prisma.activity.findUnique({ where: { id: activityId } });
  if (!a) return null;
  const keys = activityKeys(activityId);

  // One MULTI: meta and stats change together in the Lua scripts, so they are read together.
  const [redisReply, groups, latencies, byStatus] = await Promise.all([
    redis().multi().hgetall(keys.meta).hgetall(keys.stats).exec(),
    redis()
      .call("XINFO", "GROUPS", keys.stream)
      .catch(() => null) as Promise<unknown[][] | null>,
    redis().hgetall("flash:latency"),
    prisma.order.groupBy({ by: ["status"], where: { activityId }, _count: { _all: true }, _sum: { quantity: true } }),
  ]);
  const meta = (redisReply?.[0]?.[1] ?? {}) as Record<string, string>;
  const stats = (redisReply?.[1]?.[1] ?? {}) as Record<string, string>;
  const n = (v: string | undefined) => (v ? Number(v) : 0);

  const refused: Record<string, number> = {};
  for (const [field, value] of Object.entries(stats)) {
    if (field.startsWith("refused:")) refused[field.slice(8)] = Number(value);
  }
  const counters = {
    admitted: n(stats.admitted),
    admittedUnits: n(stats.admittedUnits),
    confirmed: n(stats.confirmed),
    confirmedUnits: n(stats.confirmedUnits),
    rejected: n(stats.rejected),
    rejectedUnits: n(stats.rejectedUnits),
    refused,
    refusedTotal: Object.values(refused).reduce((s, x) => s + x, 0),
  };

  const preheated = meta.stock !== undefined;
  const queueUnits = Math.max(0, counters.admittedUnits - counters.confirmedUnits - counters.rejectedUnits);
  const redisView = preheated
    ? {
        status: meta.status ?? "",
        paused: meta.paused === "1",
        stockLeft: n(meta.stock),
        quota: a.deductionMode === "PAYMENT" ? n(meta.quota) : null,
        admittedTickets: n(meta.seq),
        servedTickets: n(meta.served),
        queueTickets: Math.max(0, n(meta.seq) - n(meta.served)),
        queueUnits,
        soldOutAt: meta.soldOutAt ? new Date(Number(meta.soldOutAt)).toISOString() : null,
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
      sellable: sellableOf(a.totalStock, a.safetyStockPct),
      mode: a.deductionMode,
      perUserLimit: a.perUserLimit,
    },
    redis: redisView,
    counters,
    db: dbView,
    worker: parseGroup(groups),
    latency: combineLatency(latencies, now),
    conservation:
      redisView && a.deductionMode !== "PAYMENT"
        ? {
            offered: a.stock + dbView.holdingUnits,
            accounted: redisView.stockLeft + redisView.queueUnits + dbView.holdingUnits,
            settled: redisView.queueTickets === 0,
          }
        : null,
  };
}

/** XINFO GROUPS replies one flat [name, value, …] list per group. */
function parseGroup(groups: unknown[][] | null): DashboardSnapshot["worker"] {
  for (const g of groups ?? []) {
    const f: Record<string, unknown> = {};
    for (let i = 0; i + 1 < g.length; i += 2) f[String(g[i])] = g[i + 1];
    if (f.name !== WORKER_GROUP) continue;
    return {
      lag: typeof f.lag === "number" ? f.lag : null,
      pending: Number(f.pending ?? 0),
      consumers: Number(f.consumers ?? 0),
    };
  }
  return null;
}

export function combineLatency(entries: Record<string, string>, now: number): DashboardSnapshot["latency"] {
  let p95: number | null = null;
  let samples = 0;
  let processes = 0;
  for (const raw of Object.values(entries)) {
    try {
      const e = JSON.parse(raw) as { p95?: unknown; n?: unknown; at?: unknown };
      if (typeof e.p95 !== "number" || typeof e.at !== "number" || now - e.at > LATENCY_FRESH_MS) continue;
      // p95s of different processes cannot be merged exactly; the worst one is the honest summary.
      p95 = Math.max(p95 ?? 0, e.p95);
      samples += typeof e.n === "number" ? e.n : 0;
      processes++;
    } catch {
      // a malformed entry is skipped
    }
  }
  return { p95Ms: p95 === null ? null : Math.round(p95 * 100) / 100, samples, processes };
}
