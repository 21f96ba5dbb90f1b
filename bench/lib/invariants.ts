import type { Redis } from "ioredis";
import { db } from "@/lib/db";
import { WORKER_GROUP, activityKeys } from "@/lib/flash/keys";
import { fields } from "@/bench/lib/activity";

export interface Check {
  /** RUN: the bench really exercised the path (a run that admitted nothing proves nothing). */
  invariant: "I1" | "I2" | "I3" | "I4" | "I5" | "I6" | "RUN";
  name: string;
  ok: boolean;
  detail: string;
}

/** What the load generator saw, to hold against the stores. */
export interface Observed {
  /** Ticket ids the clicks were given (202). */
  ticketIds: string[];
  /** Lowest Redis stock the sampler read during the load. */
  minRedisStock: number | null;
  /** Retried clicks (same idempotency key) and whether each got its first ticket back. */
  replays: { tried: number; sameTicket: number };
  /** Waiting browsers that never saw their final answer. */
  unanswered: number;
  /** A ticket read by another shopper / by no one: statuses that came back (I5 wants 404 / 401). */
  foreignReads: { tried: number; hidden: number };
}

interface StreamEntry {
  id: string;
  ticketId: string;
  userId: string;
  qty: number;
  seq: number;
}

/** Waits until every admitted ticket of the activity is final and the consumer group has nothing pending. */
export async function waitForDrain(
  r: Redis,
  activityId: string,
  timeoutMs: number,
): Promise<{ drained: boolean; at: number }> {
  const keys = activityKeys(activityId);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const [seq, served] = await r.hmget(keys.meta, "seq", "served");
    if (Number(seq ?? 0) === Number(served ?? 0)) {
      const g = await group(r, activityId);
      if (g.pending === 0 && g.lag === 0) return { drained: true, at: Date.now() };
    }
    await new Promise((res) => setTimeout(res, 10));
  }
  return { drained: false, at: Date.now() };
}

async function group(r: Redis, activityId: string): Promise<{ pending: number; lag: number }> {
  const groups = (await r.xinfo("GROUPS", activityKeys(activityId).stream)) as unknown[][];
  const g = groups.map(fields).find((f) => f.name === WORKER_GROUP);
  return { pending: Number(g?.pending ?? -1), lag: Number(g?.lag ?? -1) };
}

/**
 * I1–I4 (and the I5 read check) for one activity, read back from PostgreSQL and Redis after the
 * queue has drained. The bench sells in ORDER mode and nothing expires or is cancelled during a run,
 * so stock only leaves through admission and only comes back through a refused ticket.
 */
export async function checkInvariants(
  r: Redis,
  a: { id: string; stock: number; limit: number },
  seen: Observed,
): Promise<Check[]> {
  const keys = activityKeys(a.id);
  const checks: Check[] = [];
  const check = (invariant: Check["invariant"], name: string, ok: boolean, detail: string) =>
    checks.push({ invariant, name, ok, detail });

  // Redis: counters, buyers, the whole stream (every admission), and each admitted ticket.
  const [meta, usersHash, g] = await Promise.all([r.hgetall(keys.meta), r.hgetall(keys.users), group(r, a.id)]);
  const entries: StreamEntry[] = [];
  for (let start = "-"; ;) {
    const batch = await r.xrange(keys.stream, start, "+", "COUNT", 10_000);
    for (const [id, f] of batch) {
      const m: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) m[f[i]!] = f[i + 1]!;
      entries.push({ id, ticketId: m.t!, userId: m.u!, qty: Number(m.q), seq: Number(m.s) });
    }
    if (batch.length < 10_000) break;
    start = `(${batch[batch.length - 1]![0]}`;
  }
  const tickets = new Map<string, { st: string | null; u: string | null; q: number; o: string | null }>();
  for (let i = 0; i < entries.length; i += 5000) {
    const pipe = r.pipeline();
    for (const e of entries.slice(i, i + 5000)) pipe.hmget(keys.ticket(e.ticketId), "st", "u", "q", "o");
    const replies = (await pipe.exec()) ?? [];
    replies.forEach(([, v], j) => {
      const [st, u, q, o] = v as (string | null)[];
      tickets.set(entries[i + j]!.ticketId, { st: st ?? null, u: u ?? null, q: Number(q ?? 0), o: o ?? null });
    });
  }

  // PostgreSQL: the activity's stock, its orders and per-user units.
  const prisma = db();
  const [activity, orders, buyers] = await Promise.all([
    prisma.activity.findUniqueOrThrow({ where: { id: a.id }, select: { stock: true } }),
    prisma.order.findMany({
      where: { activityId: a.id },
      select: { id: true, ticketId: true, userId: true, quantity: true, status: true, sequence: true },
    }),
    prisma.activityBuyer.findMany({ where: { activityId: a.id }, select: { userId: true, units: true } }),
  ]);
  const holding = orders.filter((o) => o.status === "PENDING_PAYMENT" || o.status === "PAID");
  const heldUnits = holding.reduce((n, o) => n + o.quantity, 0);
  const redisStock = Number(meta.stock);
  const pgStock = activity.stock;
  const byTicket = new Map(orders.map((o) => [o.ticketId, o]));
  const admittedUnits = entries.reduce((n, e) => n + e.qty, 0);
  const ticketStates = [...tickets.values()];
  const count = (st: string) => ticketStates.filter((t) => t.st === st).length;
  const units = (st: string) => ticketStates.filter((t) => t.st === st).reduce((n, t) => n + t.q, 0);
  const rejected = [...tickets.entries()].filter(([, t]) => t.st === "REJECTED");

  // I1 no oversell
  check(
    "I1",
    "PostgreSQL: units in orders holding stock ≤ stock",
    heldUnits <= a.stock,
    `${heldUnits} held of ${a.stock}`,
  );
  check("I1", "PostgreSQL: stock never negative", pgStock >= 0, `stock ${pgStock}`);
  check(
    "I1",
    "Redis: stock never negative (end, and lowest sampled during the load)",
    redisStock >= 0 && (seen.minRedisStock ?? 0) >= 0,
    `end ${redisStock}, lowest sampled ${seen.minRedisStock ?? "n/a"}`,
  );
  check(
    "I1",
    "Redis: admitted units ≤ stock (no stock came back during the run)",
    admittedUnits <= a.stock,
    `${admittedUnits} admitted of ${a.stock}`,
  );
  check(
    "I1",
    "no admitted ticket refused by the database (Redis admitted only what PostgreSQL could hold)",
    rejected.length === 0,
    rejected.length ? `${rejected.length} refused, e.g. ${rejected[0]![0]}` : "0 refused",
  );

  // I2 nothing lost
  const notFinal = ticketStates.filter((t) => t.st !== "CONFIRMED" && t.st !== "REJECTED").length;
  check(
    "I2",
    "every admitted ticket is final in Redis (none QUEUED or missing)",
    notFinal === 0,
    `${notFinal} not final of ${entries.length}`,
  );
  check(
    "I2",
    "consumer group drained (nothing pending or unread)",
    g.pending === 0 && g.lag === 0,
    `pending ${g.pending}, lag ${g.lag}`,
  );
  check(
    "I2",
    "#orders + #rejected = #admitted",
    orders.length + rejected.length === entries.length && Number(meta.seq) === entries.length,
    `${orders.length} + ${rejected.length} vs ${entries.length} stream entries (seq ${meta.seq})`,
  );
  const mismatched = [...tickets.entries()].filter(([id, t]) => {
    const o = byTicket.get(id);
    if (t.st === "CONFIRMED") return !o || o.id !== t.o || o.userId !== t.u || o.quantity !== t.q;
    return t.st === "REJECTED" && o !== undefined;
  }).length;
  const orphanOrders = orders.filter((o) => !tickets.has(o.ticketId)).length;
  check(
    "I2",
    "Redis ticket states match PostgreSQL orders one to one",
    mismatched === 0 && orphanOrders === 0,
    `${mismatched} tickets disagree, ${orphanOrders} orders without an admission`,
  );
  const streamIds = new Set(entries.map((e) => e.ticketId));
  const phantom = seen.ticketIds.filter((t) => !streamIds.has(t)).length;
  check(
    "I2",
    "every ticket a shopper was given was admitted",
    phantom === 0,
    `${phantom} of ${seen.ticketIds.length} not in the stream`,
  );
  check("I2", "every watching shopper saw a final answer", seen.unanswered === 0, `${seen.unanswered} never saw one`);

  // I3 no duplicates, nobody over the limit
  const dupTickets = entries.length - streamIds.size;
  const dupOrders =
    orders.length -
    new Set(orders.map((o) => o.ticketId)).size +
    (orders.length - new Set(orders.map((o) => o.sequence)).size);
  check(
    "I3",
    "no duplicate ticket or order",
    dupTickets === 0 && dupOrders === 0 && new Set(seen.ticketIds).size === seen.ticketIds.length,
    `${dupTickets} duplicate stream tickets, ${dupOrders} duplicate orders`,
  );
  const pgPerUser = sumBy(
    holding,
    (o) => o.userId,
    (o) => o.quantity,
  );
  const overPg = [...pgPerUser.values()].filter((n) => n > a.limit).length;
  const buyerDiff = buyers.filter((b) => b.units > a.limit || b.units !== (pgPerUser.get(b.userId) ?? 0)).length;
  check(
    "I3",
    "PostgreSQL: no user above the limit",
    overPg === 0 && buyerDiff === 0,
    `${overPg} over ${a.limit}, ${buyerDiff} buyer rows off`,
  );
  const livePerUser = sumBy(
    entries.filter((e) => tickets.get(e.ticketId)?.st !== "REJECTED"),
    (e) => e.userId,
    (e) => e.qty,
  );
  const overRedis = [...livePerUser.values()].filter((n) => n > a.limit).length;
  const usersOff = Object.entries(usersHash).filter(
    ([u, n]) => Number(n) < 0 || Number(n) > a.limit || Number(n) !== (livePerUser.get(u) ?? 0),
  ).length;
  check(
    "I3",
    "Redis: no user above the limit",
    overRedis === 0 && usersOff === 0,
    `${overRedis} over ${a.limit}, ${usersOff} buyer counters off`,
  );
  check(
    "I3",
    "a retried click (same idempotency key) gets its first ticket back",
    seen.replays.sameTicket === seen.replays.tried,
    `${seen.replays.sameTicket} of ${seen.replays.tried}`,
  );

  // I4 conservation
  const queuedUnits = units("QUEUED");
  const confirmedUnits = units("CONFIRMED");
  check(
    "I4",
    "Redis: initial = stock left + units queued + units confirmed",
    a.stock === redisStock + queuedUnits + confirmedUnits,
    `${a.stock} = ${redisStock} + ${queuedUnits} + ${confirmedUnits}`,
  );
  check(
    "I4",
    "PostgreSQL: initial = stock left + units queued + units in orders holding stock",
    a.stock === pgStock + queuedUnits + heldUnits,
    `${a.stock} = ${pgStock} + ${queuedUnits} + ${heldUnits}`,
  );
  check(
    "I4",
    "Redis and PostgreSQL agree on the stock left",
    redisStock === pgStock && count("CONFIRMED") === holding.length,
    `Redis ${redisStock}, PostgreSQL ${pgStock}; ${count("CONFIRMED")} confirmed tickets, ${holding.length} orders`,
  );

  // I5 a ticket reveals nothing to anyone but its owner
  if (seen.foreignReads.tried > 0) {
    check(
      "I5",
      "another shopper (or no session) cannot read a ticket",
      seen.foreignReads.hidden === seen.foreignReads.tried,
      `${seen.foreignReads.hidden} of ${seen.foreignReads.tried} reads refused`,
    );
  }
  return checks;
}

function sumBy<T>(items: T[], key: (t: T) => string, value: (t: T) => number): Map<string, number> {
  const out = new Map<string, number>();
  for (const it of items) out.set(key(it), (out.get(key(it)) ?? 0) + value(it));
  return out;
}
