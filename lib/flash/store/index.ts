import "server-only";
import { serverFor, type RedisClient } from "@/lib/redis-connect";
import {
  decodeDeadLetter,
  decodeEntry,
  decodeShopper,
  encodeTrace,
  decodeStats,
  decodeTicket,
  encodeChange,
  encodeDeadLetter,
  encodeLatency,
  encodeRules,
  refusedField,
  TICKET_FIELDS,
  type ActivityState,
  type Counters,
  type DeadLetter,
  type LatencyReport,
  type MetaRules,
  type ShopperRecord,
  type StreamEntry,
  type TraceEntry,
  type TicketRecord,
} from "@/lib/flash/store/codec";
import {
  ACTIVE_SET,
  DEAD_LETTER_COUNT,
  DEAD_LETTERS,
  EVENTS_CHANNEL,
  FINAL_DUPLICATE,
  LATENCY_KEY,
  META,
  RESTOCK_VOID,
  TICKET_STATE,
  WORKER_GROUP,
  MAX_SEGMENTS,
  activityKeys,
  parseTicketId,
} from "@/lib/flash/store/layout";
import { withScripts } from "@/lib/flash/store/scripts";
import { readSegmentLeft, readSplitState } from "@/lib/flash/store/split";

/*
 * The Redis contract of the flash sale: names (layout.ts), encoding (codec.ts), the scripts
 * (scripts.ts), and the few reads and writes other modules need. Everything that touches an
 * activity's Redis state goes through here; see docs/architecture.md for the whole layout.
 */
export * from "@/lib/flash/store/layout";
export * from "@/lib/flash/store/codec";
export { withScripts } from "@/lib/flash/store/scripts";
export * from "@/lib/flash/store/split";

/** The activity's state; a split counter (stock or quota) is summed over its segments, read beside meta. */
export async function readState(redis: RedisClient, activityId: string): Promise<ActivityState | null> {
  return readSplitState(redis, activityId, await redis.hgetall(activityKeys(activityId).meta));
}

export async function readStats(redis: RedisClient, activityId: string): Promise<Counters> {
  return decodeStats(await redis.hgetall(activityKeys(activityId).stats));
}

/** Users holding admitted units (the users hash). */
export function readBuyers(redis: RedisClient, activityId: string): Promise<string[]> {
  return redis.hkeys(activityKeys(activityId).users);
}

/** Units each user holds in Redis (admitted and not refused). */
export async function readUnitsByUser(redis: RedisClient, activityId: string): Promise<Map<string, number>> {
  const h = await redis.hgetall(activityKeys(activityId).users);
  return new Map(Object.entries(h).map(([u, n]) => [u, Number(n)]));
}

/** Preheat finished writing: the stock field is there. */
export async function isPreheated(redis: RedisClient, activityId: string): Promise<boolean> {
  return (await redis.hexists(activityKeys(activityId).meta, META.stock)) === 1;
}

/** null: malformed id or no such ticket. */
export async function readTicket(
  redis: RedisClient,
  ticketId: string,
): Promise<(TicketRecord & { activityId: string }) | null> {
  const parsed = parseTicketId(ticketId);
  if (!parsed) return null;
  const t = decodeTicket(await redis.hmget(activityKeys(parsed.activityId).ticket(ticketId), ...TICKET_FIELDS));
  return t && { ...t, activityId: parsed.activityId };
}

/** One shopper's units held, trace and tickets in one sale: one round trip (lib/flash/me.lua). */
export async function readShopper(redis: RedisClient, activityId: string, userId: string): Promise<ShopperRecord> {
  const k = activityKeys(activityId);
  return decodeShopper(await withScripts(redis).flashMe(k.users, k.mine, k.trace, userId, k.ticket(""), ...TICKET_FIELDS));
}

/** Many tickets of one activity, pipelined; missing ones are absent from the map. */
export async function readTickets(
  redis: RedisClient,
  activityId: string,
  ticketIds: string[],
): Promise<Map<string, TicketRecord>> {
  const keys = activityKeys(activityId);
  const out = new Map<string, TicketRecord>();
  for (let i = 0; i < ticketIds.length; i += 5000) {
    const part = ticketIds.slice(i, i + 5000);
    const pipe = redis.pipeline();
    for (const id of part) pipe.hmget(keys.ticket(id), ...TICKET_FIELDS);
    const replies = (await pipe.exec()) ?? [];
    replies.forEach(([err, v], j) => {
      if (err) throw err;
      const t = decodeTicket(v as (string | null)[]);
      if (t) out.set(part[j]!, t);
    });
  }
  return out;
}

/** Every entry of the activity's stream, oldest first (every admission since the preheat). */
export async function readStream(redis: RedisClient, activityId: string): Promise<StreamEntry[]> {
  const key = activityKeys(activityId).stream;
  const entries: StreamEntry[] = [];
  for (let start = "-"; ;) {
    const batch = await redis.xrange(key, start, "+", "COUNT", 10_000);
    for (const [id, fields] of batch) entries.push(decodeEntry(id, fields));
    if (batch.length < 10_000) return entries;
    start = `(${batch[batch.length - 1]![0]}`;
  }
}

/** The order workers' consumer group on an activity's stream; lag is null when Redis cannot tell. */
export interface WorkerGroup {
  lag: number | null;
  pending: number;
  consumers: number;
}

/** null: no stream (not preheated, or forgotten) or no group on it. */
export async function readWorkerGroup(redis: RedisClient, activityId: string): Promise<WorkerGroup | null> {
  let groups: unknown[][];
  try {
    const stream = activityKeys(activityId).stream;
    groups = (await serverFor(redis, stream).call("XINFO", "GROUPS", stream)) as unknown[][];
  } catch (e) {
    if (String(e).includes("no such key")) return null;
    throw e;
  }
  // One flat [name, value, …] list per group.
  for (const g of groups) {
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

/** Announces a change on EVENTS_CHANNEL: every web process drops its cached state of the activity. */
export async function publishChange(redis: RedisClient, activityId: string, event: string): Promise<void> {
  await redis.publish(EVENTS_CHANNEL, encodeChange({ activityId, event }));
}

/** The workers' consumer group on the activity's stream (made with the stream; idempotent). */
export async function ensureWorkerGroup(redis: RedisClient, activityId: string): Promise<void> {
  try {
    await redis.xgroup("CREATE", activityKeys(activityId).stream, WORKER_GROUP, "0", "MKSTREAM");
  } catch (e) {
    if (!String(e).includes("BUSYGROUP")) throw e;
  }
  await redis.sadd(ACTIVE_SET, activityId);
}

/** The workers stop reading the activity's stream. */
export async function retireActivity(redis: RedisClient, activityId: string): Promise<void> {
  await redis.srem(ACTIVE_SET, activityId);
}

/**
 * Gives every Redis key of the activity, tickets included, a time to live (housekeeping of a retired
 * sale). Pipelined in chunks: a sale may have hundreds of thousands of tickets.
 */
export async function expireActivity(redis: RedisClient, activityId: string, ttlSec: number): Promise<void> {
  const keys = activityKeys(activityId);
  const all = (await readStream(redis, activityId)).map((e) => keys.ticket(e.ticketId));
  all.push(keys.meta, keys.users, keys.idem, keys.stream, keys.stats, keys.restocks, keys.lifecycle, keys.mine, keys.trace, keys.draw, keys.waitlist, keys.offers, keys.pending, keys.chan);
  for (let i = 0; i < all.length; i += 5000) {
    const pipe = redis.pipeline();
    for (const key of all.slice(i, i + 5000)) pipe.expire(key, ttlSec);
    for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
  }
  // Segments live in slots of their own: one command each (a cluster pipeline spans one slot).
  await Promise.all(segmentKeys(activityId).map((key) => redis.expire(key, ttlSec)));
}

/** Every segment key a sale may have (segments 1..MAX_SEGMENTS-1): its count may have changed before a reset. */
const segmentKeys = (activityId: string) => Array.from({ length: MAX_SEGMENTS - 1 }, (_, i) => activityKeys(activityId).segment(i + 1));

/** Drops every Redis key of the activity, tickets included (PostgreSQL keeps the orders). */
export async function forgetActivity(redis: RedisClient, activityId: string): Promise<void> {
  const keys = activityKeys(activityId);
  const tickets = (await readStream(redis, activityId)).map((e) => keys.ticket(e.ticketId));
  for (let i = 0; i < tickets.length; i += 5000) await redis.unlink(...tickets.slice(i, i + 5000));
  await redis.unlink(keys.meta, keys.users, keys.idem, keys.stream, keys.stats, keys.restocks, keys.mine, keys.trace, keys.draw, keys.waitlist, keys.offers, keys.pending, keys.chan);
  await Promise.all(segmentKeys(activityId).map((key) => redis.unlink(key)));
}

/** Writes rules into the activity's meta (the preheat, the scheduler's status moves). */
export async function writeRules(redis: RedisClient, activityId: string, rules: Partial<MetaRules>): Promise<void> {
  await redis.hset(activityKeys(activityId).meta, encodeRules(rules));
}

/** Writes rules into a preheated activity's meta; false if it is not preheated (nothing written). */
export async function mirrorRules(redis: RedisClient, activityId: string, rules: Partial<MetaRules>): Promise<boolean> {
  const argv = Object.entries(encodeRules(rules)).flat();
  return (await withScripts(redis).adminMirror(activityKeys(activityId).meta, ...argv)) === 1;
}

/** Forgets an activity nobody was admitted to (so the next preheat copies it afresh); false if someone was. */
export async function resetUnsold(redis: RedisClient, activityId: string): Promise<boolean> {
  return (await withScripts(redis).adminResetUnsold(activityKeys(activityId).meta)) === 1;
}

export type RestockReply =
  { kind: "OK"; stock: number } | { kind: "DUP"; stock: number } | { kind: "VOID" } | { kind: "NOT_PREHEATED" };

/** Adds units (and PAYMENT-mode quota) once per operation id; see lib/admin/restock.lua. */
export async function applyRestock(
  redis: RedisClient,
  activityId: string,
  opId: string,
  units: number,
  quota: number,
): Promise<RestockReply> {
  const keys = activityKeys(activityId);
  const [kind, stock] = await withScripts(redis).adminRestock(keys.meta, keys.restocks, opId, units, quota);
  // The units land in segment 0 (meta) of a split stock; the reply is the sale's whole stock.
  if (kind === "OK" || kind === "DUP") return { kind, stock: (await readState(redis, activityId))?.stock ?? Number(stock) };
  return { kind: kind === "VOID" ? "VOID" : "NOT_PREHEATED" };
}

/** Gives a restock operation up: true if it had not landed (and now never will). */
export async function voidRestock(redis: RedisClient, activityId: string, opId: string): Promise<boolean> {
  return (await redis.hsetnx(activityKeys(activityId).restocks, opId, RESTOCK_VOID)) === 1;
}

/** A worker's answer for one ticket; DUPLICATE: CONFIRMED with an earlier order of the same idempotency key. */
export type FinalAnswer =
  | { ticketId: string; status: typeof TICKET_STATE.confirmed | typeof FINAL_DUPLICATE; orderId: string; payBy: Date | null }
  | { ticketId: string; status: typeof TICKET_STATE.rejected; code: string };

/** Records final answers (lib/orders/finalize.lua); idempotent. Returns how many tickets changed. */
export function finalizeTickets(redis: RedisClient, activityId: string, answers: FinalAnswer[]): Promise<number> {
  const keys = activityKeys(activityId);
  const ticketKeys = answers.map((x) => keys.ticket(x.ticketId));
  const argv = answers.flatMap((x) =>
    x.status === TICKET_STATE.rejected
      ? [x.status, x.code, ""]
      : [x.status, x.orderId, x.payBy ? String(x.payBy.getTime()) : ""],
  );
  return withScripts(redis).flashFinalize(
    3 + ticketKeys.length,
    keys.meta,
    keys.users,
    keys.stats,
    ...ticketKeys,
    ...argv,
  );
}

/**
 * Writes a web process's metrics: refusals answered in-process, and its latency report. One command
 * each, sent together by auto-pipelining: on a cluster they go to different shards, which one
 * pipeline could not span.
 */
export async function writeMetrics(
  redis: RedisClient,
  refusals: Map<string, Map<string, number>>,
  latency: LatencyReport | null,
): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (const [activityId, counts] of refusals) {
    const stats = activityKeys(activityId).stats;
    for (const [code, n] of counts) writes.push(redis.hincrby(stats, refusedField(code), n));
  }
  if (latency) writes.push(redis.hset(LATENCY_KEY, String(process.pid), encodeLatency(latency)));
  await Promise.all(writes);
}

/**
 * Writes the first decided attempt of shoppers whose refusal a web process answered itself (sold
 * out from its cache, rate limits, the gate): HSETNX, so an earlier note (admission's) stays. One
 * command each (auto-pipelined), like writeMetrics, so a cluster routes each to its sale's shard.
 */
export async function writeTraces(redis: RedisClient, traces: Map<string, Map<string, TraceEntry>>): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (const [activityId, byUser] of traces) {
    const key = activityKeys(activityId).trace;
    for (const [userId, t] of byUser) writes.push(redis.hsetnx(key, userId, encodeTrace(t)));
  }
  await Promise.all(writes);
}

export function readLatencies(redis: RedisClient): Promise<Record<string, string>> {
  return redis.hgetall(LATENCY_KEY);
}

/** One order's wanted effect on the counters, as lib/orders/lifecycle.ts's redisTarget() states it. */
export interface LifecycleTarget {
  orderId: string;
  /** The order row's version (updated_at, ms): an older target never undoes a newer one. */
  version: string | number;
  stock: number;
  quota: number;
}

/**
 * The order lifecycle's stock moves (lib/orders/stock-mirror.lua): each order's effect on the counters
 * brought to its target once, then every process told. Returns the orders changed, or -1 when the
 * activity is not preheated (the preheat copies PostgreSQL, which already holds the moves).
 */
export async function mirrorLifecycle(redis: RedisClient, activityId: string, targets: LifecycleTarget[]): Promise<number> {
  const keys = activityKeys(activityId);
  const args = targets.flatMap((t) => [t.orderId, t.version, t.stock, t.quota]);
  const [changed] = await withScripts(redis).orderStockMirror(keys.meta, keys.lifecycle, ...args);
  if (changed > 0) await publishChange(redis, activityId, "stock");
  return changed;
}

/** Times an entry was delivered to a consumer of the workers' group (XPENDING); 0 if not pending. */
export async function readDeliveries(redis: RedisClient, activityId: string, entryId: string): Promise<number> {
  const rows = (await redis.xpending(activityKeys(activityId).stream, WORKER_GROUP, entryId, entryId, 1)) as [string, string, number, number][];
  return Number(rows[0]?.[3] ?? 0);
}

/** Keeps the latest this many dead letters; DEAD_LETTER_COUNT counts them all. */
const DEAD_LETTERS_KEPT = 100;

export async function recordDeadLetter(redis: RedisClient, letter: DeadLetter): Promise<void> {
  await redis
    .multi()
    .lpush(DEAD_LETTERS, encodeDeadLetter(letter))
    .ltrim(DEAD_LETTERS, 0, DEAD_LETTERS_KEPT - 1)
    .incr(DEAD_LETTER_COUNT)
    .exec();
}

/** Every dead letter ever recorded (count) and the latest ones, newest first. */
export async function readDeadLetters(redis: RedisClient, latest = 5): Promise<{ count: number; latest: DeadLetter[] }> {
  const [count, raw] = await Promise.all([redis.get(DEAD_LETTER_COUNT), redis.lrange(DEAD_LETTERS, 0, latest - 1)]);
  return { count: Number(count ?? 0), latest: raw.flatMap((r) => decodeDeadLetter(r) ?? []) };
}

/** One drawn entry as Redis keeps it for admission: its drawn sequence number and reserved units. */
export interface DrawSlot {
  userId: string;
  sequence: number;
  units: number;
}

export type DrawLoadReply = { kind: "OK"; gap: number } | { kind: "DONE" | "NOT_READY" } | { kind: "STALE"; seq: number };

/** Writes a sale's draw into Redis once (lib/flash/draw-load.lua); `baseSeq`: the last sequence number before it. */
export async function loadDraw(
  redis: RedisClient,
  activityId: string,
  d: { holdUntilMs: number; baseSeq: number; slots: DrawSlot[] },
): Promise<DrawLoadReply> {
  const keys = activityKeys(activityId);
  const argv = d.slots.flatMap((x) => [x.userId, x.sequence, x.units]);
  const [kind, n] = await withScripts(redis).flashDrawLoad(keys.meta, keys.draw, d.holdUntilMs, d.baseSeq, ...argv);
  if (kind === "OK") return { kind, gap: Number(n) };
  if (kind === "STALE") return { kind, seq: Number(n) };
  return { kind: kind === "DONE" ? "DONE" : "NOT_READY" };
}

/** The sale's last sequence number, admission counter and per-user limit, as the draw reads them. */
export async function readDrawBasis(redis: RedisClient, activityId: string): Promise<{ seq: number; left: number; limit: number } | null> {
  const state = await readState(redis, activityId);
  return state && { seq: Number((await redis.hget(activityKeys(activityId).meta, META.seq)) ?? 0), left: state.left, limit: state.limit };
}

export type WaitlistJoinReply =
  | { kind: "OK" | "DUP"; position: number }
  | { kind: "OFFERED"; deadlineMs: number }
  | { kind: "NO"; code: "UNAVAILABLE" | "ENDED" | "NOT_STARTED" | "LIMIT_REACHED" | "NOT_SOLD_OUT" };

/** Joins a sold-out sale's waitlist (lib/flash/waitlist.lua JOIN). */
export async function joinWaitlist(redis: RedisClient, activityId: string, userId: string, nowMs: number): Promise<WaitlistJoinReply> {
  const k = activityKeys(activityId);
  // A split stock: the script sees segment 0 only (where returned units land); units still in the
  // other segments are bought by the crowd, not waited for.
  const segments = Number((await redis.hget(k.meta, META.segments)) ?? 1);
  if (segments > 1 && (await readSegmentLeft(redis, activityId, segments)).some((n) => n > 0)) return { kind: "NO", code: "NOT_SOLD_OUT" };
  const [kind, v] = (await withScripts(redis).flashWaitlist(k.meta, k.users, k.waitlist, k.offers, "JOIN", userId, nowMs)) as [string, string | number];
  if (kind === "OK" || kind === "DUP") return { kind, position: Number(v) };
  if (kind === "OFFERED") return { kind, deadlineMs: Number(v) };
  return { kind: "NO", code: v as Extract<WaitlistJoinReply, { kind: "NO" }>["code"] };
}

/** Lapses offers past their deadline and offers every unit nobody holds to the next in line (lib/flash/waitlist.lua OFFER). */
export async function offerFromWaitlist(
  redis: RedisClient,
  activityId: string,
  nowMs: number,
  windowMs: number,
): Promise<{ offered: string[]; lapsed: string[] }> {
  const k = activityKeys(activityId);
  const [offered, lapsed] = (await withScripts(redis).flashWaitlist(k.meta, k.users, k.waitlist, k.offers, "OFFER", nowMs, windowMs)) as [string[], string[]];
  return { offered, lapsed };
}

/** A shopper's place on the waitlist (1-based, null when not on it), their open offer's deadline, and how many wait. */
export async function readWaitlist(
  redis: RedisClient,
  activityId: string,
  userId: string,
): Promise<{ position: number | null; offerUntilMs: number | null; waiting: number }> {
  const k = activityKeys(activityId);
  const [rank, deadline, waiting] = await Promise.all([redis.zrank(k.waitlist, userId), redis.hget(k.offers, userId), redis.zcard(k.waitlist)]);
  return { position: rank === null ? null : rank + 1, offerUntilMs: deadline ? Number(deadline) : null, waiting };
}

/** Every open offer of a sale: user id -> deadline (ms). */
export async function readOffers(redis: RedisClient, activityId: string): Promise<Map<string, number>> {
  const h = await redis.hgetall(activityKeys(activityId).offers);
  return new Map(Object.entries(h).map(([u, d]) => [u, Number(d)]));
}
