import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import type { OrderStatus } from "@/lib/generated/prisma/enums";
import {
  TICKET_STATE,
  countReservations,
  holdingStatuses,
  readState,
  readStats,
  readStream,
  readSegmentLeft,
  readTickets,
  readUnitsByUser,
  readWorkerGroup,
  spendsQuota,
  type ActivityState,
  type Counters,
  type StreamEntry,
  type TicketRecord,
  type WorkerGroup,
} from "@/lib/flash/store";
import { readChannelState, type ChannelState } from "@/lib/channels";

/*
 * The invariants I1–I4 (docs/architecture.md) checked against what PostgreSQL and Redis hold once
 * an activity's queue has drained. One module for the integration tests and the benchmark: a test
 * expects every check to pass; the bench prints them and adds what only it observed (I5, replays).
 */

export interface Check {
  /** RUN: the run really exercised the path (a run that admitted nothing proves nothing). */
  invariant: "I1" | "I2" | "I3" | "I4" | "I5" | "I6" | "RUN";
  name: string;
  ok: boolean;
  detail: string;
}

/** Everything the invariants are stated over, for one activity. */
export interface SaleSnapshot {
  activity: { stock: number; perUserLimit: number; deductionMode: Parameters<typeof holdingStatuses>[0] };
  /** `deposit` non-null: a pre-sale order (docs/presale.md), written without a Redis admission. */
  orders: { id: string; ticketId: string; userId: string; quantity: number; status: OrderStatus; sequence: number; channel: string | null; deposit?: number | null }[];
  buyers: { userId: string; units: number }[];
  state: ActivityState | null;
  /** Redis users hash: units per user. */
  units: Map<string, number>;
  stats: Counters;
  /** The whole stream: every admission. */
  entries: StreamEntry[];
  tickets: Map<string, TicketRecord>;
  group: WorkerGroup | null;
  /** A split stock: units left in segments 1..S-1 (segment 0 is in `state`'s sum too); [] when not split. */
  segmentLeft: number[];
  /** Split-stock reservations between their steps (none once drained). */
  reservations: number;
  /** A sale split into channels (docs/channels.md): Redis's counters and PostgreSQL's shares; null without channels. */
  channels: { state: ChannelState | null; shares: { channel: string; share: number }[] } | null;
}

export async function readSaleSnapshot(prisma: PrismaClient, redis: RedisClient, activityId: string): Promise<SaleSnapshot> {
  const [state, units, stats, entries, group] = await Promise.all([
    readState(redis, activityId),
    readUnitsByUser(redis, activityId),
    readStats(redis, activityId),
    readStream(redis, activityId),
    readWorkerGroup(redis, activityId),
  ]);
  const [tickets, segmentLeft, reservations, chanState, shares] = await Promise.all([
    readTickets(
      redis,
      activityId,
      entries.map((e) => e.ticketId),
    ),
    readSegmentLeft(redis, activityId, state?.segments ?? 1),
    countReservations(redis, activityId),
    readChannelState(redis, activityId),
    prisma.saleChannel.findMany({ where: { activityId }, select: { channel: true, share: true } }),
  ]);
  const [activity, orders, buyers] = await Promise.all([
    prisma.activity.findUniqueOrThrow({
      where: { id: activityId },
      select: { stock: true, perUserLimit: true, deductionMode: true },
    }),
    prisma.order.findMany({
      where: { activityId },
      select: { id: true, ticketId: true, userId: true, quantity: true, status: true, sequence: true, channel: true, deposit: true },
    }),
    prisma.activityBuyer.findMany({ where: { activityId }, select: { userId: true, units: true } }),
  ]);
  const channels = chanState || shares.length ? { state: chanState, shares } : null;
  return { activity, orders, buyers, state, units, stats, entries, tickets, group, segmentLeft, reservations, channels };
}

/** Every admitted ticket answered and the workers' group empty (nothing pending, nothing unread). */
export async function isDrained(redis: RedisClient, activityId: string): Promise<boolean> {
  const state = await readState(redis, activityId);
  if (!state || state.admitted !== state.served) return false;
  const g = await readWorkerGroup(redis, activityId);
  return g !== null && g.pending === 0 && g.lag === 0;
}

/** Polls isDrained until it holds or `timeoutMs` passes. */
export async function waitForDrain(
  redis: RedisClient,
  activityId: string,
  timeoutMs: number,
): Promise<{ drained: boolean; at: number }> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await isDrained(redis, activityId)) return { drained: true, at: Date.now() };
    await new Promise((res) => setTimeout(res, 10));
  }
  return { drained: false, at: Date.now() };
}

/** Orders that count against a user's limit (not expired, cancelled or refused). */
const LIVE_ORDER: OrderStatus[] = ["PENDING_PAYMENT", "PAID"];

/**
 * I1–I4 over a drained snapshot. `offered`: units offered in all (initial sellable stock plus
 * restocks). `given`: ticket ids the buyers were handed; with `exactly`, they must be every
 * admission (a test knows them all; a load generator may lose a reply).
 */
export function checkInvariants(
  s: SaleSnapshot,
  expected: { offered: number; given?: string[]; exactly?: boolean },
): Check[] {
  const checks: Check[] = [];
  const check = (invariant: Check["invariant"], name: string, ok: boolean, detail: string) =>
    checks.push({ invariant, name, ok, detail });
  const { offered, given = [] } = expected;
  const limit = s.activity.perUserLimit;
  const holding = new Set(holdingStatuses(s.activity.deductionMode));
  const held = s.orders.filter((o) => holding.has(o.status));
  // Pre-sale orders hold stock like any order but have no admission: the stream checks leave them out.
  const presale = s.orders.filter((o) => o.deposit != null);
  const admittedOrders = s.orders.filter((o) => o.deposit == null);
  const heldUnits = sum(held, (o) => o.quantity);
  const redisStock = s.state?.stock ?? NaN;
  const pgStock = s.activity.stock;
  const ticketOf = (e: StreamEntry) => s.tickets.get(e.ticketId);
  const inState = (st: string) => s.entries.filter((e) => ticketOf(e)?.state === st);
  const rejected = inState(TICKET_STATE.rejected);

  // I1 no oversell
  check(
    "I1",
    "PostgreSQL: units in orders holding stock ≤ units offered",
    heldUnits <= offered,
    `${heldUnits} held of ${offered}`,
  );
  check("I1", "PostgreSQL: stock never negative", pgStock >= 0, `stock ${pgStock}`);
  check("I1", "Redis: stock never negative", redisStock >= 0, `stock ${redisStock}`);
  // A split stock: no segment below 0 either (their sum is the stock above).
  const negative = s.segmentLeft.filter((n) => n < 0).length;
  check("I1", "Redis: no stock segment negative", negative === 0, `${negative} of ${s.segmentLeft.length} below 0 (${s.segmentLeft.join(", ")})`);

  // I2 nothing lost
  const notFinal = s.entries.length - inState(TICKET_STATE.confirmed).length - rejected.length;
  check(
    "I2",
    "every admitted ticket is final in Redis (none QUEUED or missing)",
    notFinal === 0,
    `${notFinal} not final of ${s.entries.length}`,
  );
  check(
    "I2",
    "consumer group drained (nothing pending or unread)",
    s.group !== null && s.group.pending === 0 && s.group.lag === 0,
    `pending ${s.group?.pending}, lag ${s.group?.lag}`,
  );
  check(
    "I2",
    "#orders + #rejected = #admitted = #answered",
    admittedOrders.length + rejected.length === s.entries.length &&
      s.state?.admitted === s.entries.length &&
      s.state.served === s.state.admitted,
    `${admittedOrders.length} + ${rejected.length} vs ${s.entries.length} stream entries (seq ${s.state?.admitted}, served ${s.state?.served})`,
  );
  check("I2", "no split-stock reservation left between its steps", s.reservations === 0, `${s.reservations} pending`);
  const byTicket = new Map(admittedOrders.map((o) => [o.ticketId, o]));
  const mismatched = [...s.tickets].filter(([id, t]) => {
    const o = byTicket.get(id);
    if (t.state === TICKET_STATE.confirmed)
      return !o || o.id !== t.orderId || o.userId !== t.owner || o.quantity !== t.quantity;
    return t.state === TICKET_STATE.rejected && o !== undefined;
  }).length;
  const orphanOrders = admittedOrders.filter((o) => !s.tickets.has(o.ticketId)).length;
  check(
    "I2",
    "Redis ticket states match PostgreSQL orders one to one",
    mismatched === 0 && orphanOrders === 0,
    `${mismatched} tickets disagree, ${orphanOrders} orders without an admission`,
  );
  const streamIds = new Set(s.entries.map((e) => e.ticketId));
  const phantom = given.filter((t) => !streamIds.has(t)).length;
  const unclaimed = expected.exactly ? s.entries.length - given.filter((t) => streamIds.has(t)).length : 0;
  check(
    "I2",
    expected.exactly ? "the tickets handed out are exactly the admissions" : "every ticket handed out was admitted",
    phantom === 0 && unclaimed === 0,
    `${phantom} of ${given.length} not in the stream${expected.exactly ? `, ${unclaimed} admissions never handed out` : ""}`,
  );

  // I3 no duplicates, nobody over the limit
  const dupTickets = s.entries.length - streamIds.size;
  const dupOrders =
    s.orders.length -
    new Set(s.orders.map((o) => o.ticketId)).size +
    (s.orders.length - new Set(s.orders.map((o) => o.sequence)).size);
  check(
    "I3",
    "no duplicate ticket or order",
    dupTickets === 0 && dupOrders === 0 && new Set(given).size === given.length,
    `${dupTickets} duplicate stream tickets, ${dupOrders} duplicate orders, ${given.length - new Set(given).size} tickets handed out twice`,
  );
  const pgPerUser = sumBy(
    s.orders.filter((o) => LIVE_ORDER.includes(o.status)),
    (o) => o.userId,
    (o) => o.quantity,
  );
  const overPg = [...pgPerUser.values()].filter((n) => n > limit).length;
  // A buyer row counts every unit ever written for the user: an order that expired, was cancelled or
  // refunded still used up its part of the limit (the sale does not sell it to the same shopper twice).
  const writtenPerUser = sumBy(s.orders, (o) => o.userId, (o) => o.quantity);
  const buyerDiff = s.buyers.filter((b) => b.units > limit || b.units !== (writtenPerUser.get(b.userId) ?? 0)).length;
  check(
    "I3",
    "PostgreSQL: no user above the limit",
    overPg === 0 && buyerDiff === 0,
    `${overPg} over ${limit}, ${buyerDiff} buyer rows off`,
  );
  const redisPerUser = sumBy(
    s.entries.filter((e) => ticketOf(e)?.state !== TICKET_STATE.rejected),
    (e) => e.userId,
    (e) => e.quantity,
  );
  // Deposits are taken before the preheat, which copies them into Redis's per-user units.
  for (const o of presale) redisPerUser.set(o.userId, (redisPerUser.get(o.userId) ?? 0) + o.quantity);
  const overRedis = [...redisPerUser.values()].filter((n) => n > limit).length;
  const usersOff = [...s.units].filter(([u, n]) => n < 0 || n > limit || n !== (redisPerUser.get(u) ?? 0)).length;
  check(
    "I3",
    "Redis: no user above the limit",
    overRedis === 0 && usersOff === 0,
    `${overRedis} over ${limit}, ${usersOff} buyer counters off`,
  );

  // I4 conservation: offered = left + in queue + in orders holding stock (queued units hold stock
  // only where admission takes it).
  const queued = spendsQuota(s.activity.deductionMode) ? 0 : sum(inState(TICKET_STATE.queued), (e) => e.quantity);
  check(
    "I4",
    "Redis: offered = stock left + units queued + units in orders holding stock",
    offered === redisStock + queued + heldUnits,
    `${offered} = ${redisStock} + ${queued} + ${heldUnits}`,
  );
  check(
    "I4",
    "PostgreSQL: offered = stock left + units queued + units in orders holding stock",
    offered === pgStock + queued + heldUnits,
    `${offered} = ${pgStock} + ${queued} + ${heldUnits}`,
  );
  check(
    "I4",
    "Redis and PostgreSQL agree on the stock left",
    redisStock === pgStock,
    `Redis ${redisStock}, PostgreSQL ${pgStock}`,
  );
  if (s.channels) checkChannels(s, check);
  return checks;
}

/**
 * A sale split into channels (docs/channels.md): the channels never hold more than the counter
 * (I1), and shares are conserved across channels: rebalances and borrows move them, never make
 * them (I4); every admission counted on the channel it came through, every order on its channel.
 */
function checkChannels(s: SaleSnapshot, check: (invariant: Check["invariant"], name: string, ok: boolean, detail: string) => void) {
  const c = s.channels!;
  const st = c.state;
  const rows = st?.channels ?? [];
  const leftSum = sum(rows, (r) => r.left);
  const counter = s.state?.left ?? NaN;
  check(
    "I1",
    "channels: no channel below 0, and all channels' units left within the counter",
    st !== null && rows.every((r) => r.left >= 0) && st.alloc === leftSum && st.alloc <= counter,
    `left ${rows.map((r) => `${r.channel} ${r.left}`).join(", ")}; alloc ${st?.alloc} (sum ${leftSum}) of counter ${counter}`,
  );
  const pgShares = sum(c.shares, (r) => r.share);
  const redisShares = sum(rows, (r) => r.share);
  check(
    "I4",
    "channels: the shares sum to the split (rebalances and borrows only move them)",
    redisShares === pgShares && new Set(rows.map((r) => r.channel)).size === c.shares.length,
    `Redis ${redisShares} over ${rows.length} channels, PostgreSQL ${pgShares} over ${c.shares.length}`,
  );
  const streamBy = sumBy(s.entries, (e) => e.channel ?? "", (e) => e.quantity);
  const ordersBy = sumBy(s.orders, (o) => o.channel ?? "", (o) => o.quantity);
  const off = rows.filter((r) => (ordersBy.get(r.channel) ?? 0) > r.admitted || r.admitted > (streamBy.get(r.channel) ?? 0));
  const unnamed = (streamBy.get("") ?? 0) + (ordersBy.get("") ?? 0);
  check(
    "I4",
    "channels: every admission and order carries its channel; units in orders ≤ admitted ≤ units in the stream, per channel",
    off.length === 0 && unnamed === 0,
    `${off.map((r) => `${r.channel}: orders ${ordersBy.get(r.channel) ?? 0}, admitted ${r.admitted}, stream ${streamBy.get(r.channel) ?? 0}`).join("; ") || "all agree"}; ${unnamed} units without a channel`,
  );
}

function sum<T>(items: T[], value: (t: T) => number): number {
  return items.reduce((n, t) => n + value(t), 0);
}

function sumBy<T>(items: T[], key: (t: T) => string, value: (t: T) => number): Map<string, number> {
  const out = new Map<string, number>();
  for (const it of items) out.set(key(it), (out.get(key(it)) ?? 0) + value(it));
  return out;
}
