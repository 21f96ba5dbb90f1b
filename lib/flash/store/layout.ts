import { randomFillSync } from "node:crypto";
import type { DeductionMode, OrderStatus } from "@/lib/generated/prisma/enums";

/*
 * The Redis layout of the flash sale, named once. TypeScript imports these constants; the Lua
 * scripts get the same names as the header `LUA_HEADER` (below), which the script registry
 * prepends to every script it loads. A Redis key or field spelled anywhere else is a bug.
 *
 * Keys of one activity share the hash tag {act:ID}, so they live on one Redis Cluster slot and a
 * Lua script touching several of them stays atomic. Sales spread over the shards by their ids. The
 * global keys below (flash:*, rl:*) are each touched alone, one key per command or script, so each
 * may sit on any shard; nothing reads two of them at once.
 *
 *   {act:ID}:meta      hash  META fields: the activity's rules and counters (admission reads it)
 *   {act:ID}:users     hash  userId -> units admitted and not refused
 *   {act:ID}:idem      hash  "userId:idempotencyKey" -> "ticketId|sequence" (the first answer)
 *   {act:ID}:stream    stream  ENTRY fields: one order request per admitted ticket
 *   {act:ID}:t:TICKET  hash  TICKET fields: one ticket's state and final answer
 *   {act:ID}:stats     hash  STATS fields: counters for the dashboard
 *   {act:ID}:restocks  hash  restock operation id -> units, or "void" once given up
 *   {act:ID}:lifecycle hash  orderId -> "stock:quota:version": what the order lifecycle has applied
 *                            to the counters for that order (lib/orders/stock-mirror.lua)
 *   {act:ID}:mine      hash  userId -> the user's ticket ids, space-separated (GET …/me reads it)
 *   {act:ID}:trace     hash  userId -> "atMs|code": the user's first refused attempt
 *                            (admission.lua, or a web process's own refusal), for "Why didn't I get one?"
 *   {act:ID}:draw      hash  userId -> "sequence|units": a pre-queued shopper's drawn sequence number and
 *                            the units reserved for them (units 0 once claimed or none); fair entry
 *   {act:ID}:wlq       zset  the waitlist: userId scored by the order of joining (docs/fair-entry.md)
 *   {act:ID}:wlo       hash  userId -> deadline (ms) of the unit offered to them from the waitlist
 *   {act:ID}:pending   hash  ticketId -> "userId|quantity|atMs|idempotencyKey": a split-stock admission
 *                            between its reservation and its commit (docs/architecture.md, "Split stock")
 *   {act:ID}:chan      hash  CHANNEL fields: a sale's stock split into sales channels (docs/channels.md)
 *   {act:ID:s:K}       hash  SEGMENT fields: segment K (1..S-1) of a split stock, under its own hash tag
 *                            so the segments of a sale spread over the shards; segment 0 is meta's
 *                            own counter. Also "t:TICKET" -> units that ticket took from this segment
 *   flash:active       set   activity ids whose streams the workers consume
 *   flash:events       pub/sub channel: change events ({activityId, event}) to every web process
 *   flash:latency      hash  pid -> {p95, n, at}: admission latency of each web process
 *   rl:<limit>:<key>   the gate's rate-limit counters (rate-limiter-flexible's own encoding)
 *   flash:nonpayers    set   user ids flagged as non-payers (mirrored from users.non_payer_since)
 *   flash:{deadletters}  list  JSON of stream entries the workers gave up on, newest first (capped)
 *   flash:{deadletters}:n     counter of every dead letter ever recorded
 */

function keysOf(activityId: string) {
  const tag = `{act:${activityId}}`;
  return Object.freeze({
    meta: `${tag}:meta`,
    users: `${tag}:users`,
    idem: `${tag}:idem`,
    stream: `${tag}:stream`,
    stats: `${tag}:stats`,
    restocks: `${tag}:restocks`,
    lifecycle: `${tag}:lifecycle`,
    mine: `${tag}:mine`,
    trace: `${tag}:trace`,
    draw: `${tag}:draw`,
    waitlist: `${tag}:wlq`,
    offers: `${tag}:wlo`,
    pending: `${tag}:pending`,
    chan: `${tag}:chan`,
    /** Segment K >= 1 of a split stock (segment 0 is meta's counter): its own hash tag, so its own slot. */
    segment: (k: number) => `{act:${activityId}:s:${k}}`,
    ticket: (ticketId: string) => `${tag}:t:${ticketId}`,
  });
}
// Made once per sale (every admission and ticket read asks): bounded, cleared when full.
const keysCache = new Map<string, ReturnType<typeof keysOf>>();

export const activityKeys = (activityId: string) => {
  let keys = keysCache.get(activityId);
  if (!keys) {
    if (keysCache.size >= 10_000) keysCache.clear();
    keysCache.set(activityId, (keys = keysOf(activityId)));
  }
  return keys;
};
export type ActivityKeys = ReturnType<typeof activityKeys>;

/** The keys of admission.lua, in its KEYS order, for a new ticket. */
export const admissionKeys = (activityId: string, ticketId: string) => {
  const k = activityKeys(activityId);
  return [k.meta, k.users, k.idem, k.stream, k.ticket(ticketId), k.stats, k.mine, k.trace, k.draw, k.offers] as const;
};

/** The keys of admission.lua's split-stock steps (reserve, commit): admissionKeys and the pending hash. */
export const splitAdmissionKeys = (activityId: string, ticketId: string) =>
  [...admissionKeys(activityId, ticketId), activityKeys(activityId).pending] as const;

/**
 * The keys of admission.lua for a sale split into channels (one segment, docs/channels.md): the
 * split-stock keys (pending unused) and the channel hash as KEYS[12].
 */
export const channelAdmissionKeys = (activityId: string, ticketId: string) =>
  [...splitAdmissionKeys(activityId, ticketId), activityKeys(activityId).chan] as const;

/** Activities whose streams the workers consume. */
export const ACTIVE_SET = "flash:active";
/** Pub/sub channel on which changes are announced to every web process. */
export const EVENTS_CHANNEL = "flash:events";
/** Admission latency reported by each web process (FlashCore.flushMetrics), read by the dashboard. */
export const LATENCY_KEY = "flash:latency";
/** Prefix of the gate's rate-limit counters (lib/rate-limit, keys made by rate-limiter-flexible). */
export const RATE_LIMIT_PREFIX = "rl";
/** Shoppers flagged as non-payers; admission refuses them where the sale's NON_PAYERS flag is on. */
export const NON_PAYERS_KEY = "flash:nonpayers";
/** Stream entries the workers gave up on after WORKER_DEAD_LETTER_AFTER attempts, newest first (one hash tag with its counter: one MULTI writes both, on a cluster too). */
export const DEAD_LETTERS = "flash:{deadletters}";
/** How many dead letters were ever recorded (the list above keeps only the latest). */
export const DEAD_LETTER_COUNT = "flash:{deadletters}:n";
/** Consumer group of the order workers on every activity stream. */
export const WORKER_GROUP = "persist";

/** Fields of {act:ID}:meta. Times are epoch milliseconds. */
export const META = {
  status: "status", // ActivityStatus, mirrored from PostgreSQL
  start: "start",
  end: "end",
  stock: "stock", // units left to admit; present only once preheated
  quota: "quota", // PAYMENT mode: orders left to admit (see counterFor)
  limit: "limit", // units per user
  mode: "mode", // DeductionMode
  paused: "paused", // FLAG_ON | FLAG_OFF
  price: "price", // sale price, minor units
  paywin: "paywin", // payment window, seconds
  seq: "seq", // last sequence number handed out = tickets admitted
  served: "served", // tickets with a final answer
  soldOutAt: "soldOutAt", // when the counter reached 0; cleared when units come back
  lastUnit: "lastUnit", // "sequence|atMs" of the ticket that took the last unit (latest sell-out; never cleared)
  pass: "pass", // FLAG_ON: buy tokens only for holders of a gate pass (the sale's human check)
  pow: "pow", // the sale's ALTCHA difficulty (largest counter a browser may have to try)
  nonPayers: "nonpay", // FLAG_ON: flagged non-payers are refused (activities.refuse_non_payers)
  // The generation of this Redis state (activities.redis_epoch), written LAST by a rebuild from
  // PostgreSQL: its presence is the "ready" mark admission requires (lib/flash/preheat.ts).
  epoch: "epoch",
  // Fair entry (docs/fair-entry.md). `preq`: FLAG_ON when the sale has a pre-queue, so admission waits
  // for the draw (UNAVAILABLE, retry) once started. The draw writes the other three: `drawTo` (ms) until
  // which drawn shoppers' units are held for them; `drawHeld` units still held; `drawGap` drawn sequence
  // numbers no ticket carries (yet): admitted tickets = seq - drawGap.
  prequeue: "preq",
  drawUntil: "drawTo",
  drawHeld: "drawHeld",
  drawGap: "drawGap",
  // The waitlist (docs/fair-entry.md): `wlHold` units held back for it, one per shopper waiting plus
  // one per open offer (admission leaves them to the waitlist); `wlSeq` orders the joins.
  wlHold: "wlHold",
  wlSeq: "wlSeq",
  // The replication id (INFO replication, master_replid) of the Redis node that served this hash when
  // the generation was written: a promoted replica or a restarted server has another one, so a node
  // that may have lost acknowledged writes is told apart from the one the rebuild wrote to.
  node: "node",
  // Set, with the ready mark dropped, by the process that fences admission to drain the queue before
  // a rebuild (lib/flash/preheat.ts): the reason (NODE, BEHIND), so any other process that finds the
  // sale fenced drains too instead of rebuilding at once. The rebuild removes it with its new generation.
  fence: "fence",
  // Segments the counter admission spends is split into (activities.stock_segments); absent: 1.
  // Segment 0 is this hash's own counter, segments 1..S-1 are {act:ID:s:K} (SEGMENT fields).
  segments: "segs",
  // FLAG_ON: the sale's stock is split into channels ({act:ID}:chan); admission then needs the request's channel.
  channels: "chans",
} as const;

/**
 * Fields of {act:ID}:chan (docs/channels.md). Per channel C: "l:C" units C may still admit from its own
 * share, "s:C" its share (the admin's split, moved by rebalances and borrows), "a:C" units admitted
 * through C (any source; never decreases). "alloc": the sum of every "l:C", so the common pool (units
 * of the counter no share holds: returned units, restocks) is the counter less alloc. "after": ms after
 * the start from which a channel whose share is gone borrows from the channel with most left (absent: never).
 */
export const CHANNEL = {
  left: "l:",
  share: "s:",
  admitted: "a:",
  alloc: "alloc",
  after: "after",
} as const;

/** A channel's name: web, app, or a partner's (its API keys carry it). Lowercase, short, no separators Redis cares about. */
export const CHANNEL_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const WEB_CHANNEL = "web";
export const APP_CHANNEL = "app";

/** Fields of a segment hash {act:ID:s:K}; plus one "t:TICKET" field per ticket that took units here. */
export const SEGMENT = {
  left: "left", // units (PAYMENT mode: orders) this segment may still admit
  epoch: "epoch", // the generation that wrote it (META.epoch); a take for another one is refused
  node: "node", // like META.node: the replication id of the Redis node it was written to
  taken: "t:", // prefix: "t:TICKET" -> units that ticket took from this segment
} as const;

/** Most segments a sale's stock may be split into (the admin form's bound, the database's CHECK). */
export const MAX_SEGMENTS = 16;

/** A sale's counter split into `segments` shares, segment 0 first; the first ones take the remainder. */
export function splitUnits(total: number, segments: number): number[] {
  const s = Math.max(1, segments);
  const base = Math.floor(total / s);
  return Array.from({ length: s }, (_, k) => base + (k < total % s ? 1 : 0));
}

/**
 * The segment a shopper tries first: FNV-1a of the user id, modulo the segments. Hand-written: eight
 * lines for a stable 32-bit hash, called per admission, where a crypto digest would cost more.
 */
export function homeSegment(userId: string, segments: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % segments;
}

/** Fields of a ticket hash {act:ID}:t:TICKET. */
export const TICKET = {
  user: "u",
  seq: "s",
  qty: "q",
  state: "st", // TICKET_STATE
  order: "o", // order id, once CONFIRMED
  payBy: "pb", // pay-by time (ms) or "", once CONFIRMED
  code: "c", // RejectionCode, once REJECTED
  at: "at", // when admission took it (ms), for "Why didn't I get one?"
} as const;

/** Fields of an entry of {act:ID}:stream. */
export const ENTRY = { ticket: "t", user: "u", qty: "q", seq: "s", idem: "k", channel: "c" } as const;

/** Fields of {act:ID}:stats; `refused` is a prefix: one field per refusal code. */
export const STATS = {
  admitted: "admitted",
  admittedUnits: "admittedUnits",
  confirmed: "confirmed",
  confirmedUnits: "confirmedUnits",
  rejected: "rejected",
  rejectedUnits: "rejectedUnits",
  refused: "refused:",
} as const;

export const TICKET_STATE = { queued: "QUEUED", confirmed: "CONFIRMED", rejected: "REJECTED" } as const;
export type TicketState = (typeof TICKET_STATE)[keyof typeof TICKET_STATE];
/**
 * A worker's outcome (lib/orders/finalize.lua) for a retry whose idempotency key already has an order
 * in PostgreSQL: the ticket answers CONFIRMED with that order, and its own units go back.
 */
export const FINAL_DUPLICATE = "DUPLICATE";

/** Values of boolean meta fields. */
export const FLAG_ON = "1";
export const FLAG_OFF = "0";
/** Value of a restock operation id in {act:ID}:restocks once the operation was given up. */
export const RESTOCK_VOID = "void";

/*
 * The deduction-mode rule, written once: PAYMENT mode takes stock only at payment, so admission
 * spends an order quota (overbooked by PAYMENT_OVERBOOK, since some never pay) instead of stock,
 * and its orders hold stock only once PAID. Lua has it as `counter_for(mode)` in LUA_HEADER.
 */
export const QUOTA_MODE = "PAYMENT" satisfies DeductionMode;
/** PAYMENT mode admits more orders than units, since some never pay; the late payers are refused. */
export const PAYMENT_OVERBOOK = 1.5;

export function spendsQuota(mode: string): boolean {
  return mode === QUOTA_MODE;
}

/** The meta field admission spends (and a refused ticket returns to). */
export function counterFor(mode: string): typeof META.stock | typeof META.quota {
  return spendsQuota(mode) ? META.quota : META.stock;
}

/**
 * PAYMENT mode: orders to admit for `units` more units when `sold` are already held. `factor` is the
 * over-admission (env PAYMENT_OVER_ADMISSION where the caller reads the environment).
 */
export function quotaFor(units: number, sold = 0, factor = PAYMENT_OVERBOOK): number {
  return Math.max(0, Math.ceil((units + sold) * factor) - sold);
}

/** Order states that hold units of stock (I1, I4): taken at admission, or at payment in PAYMENT mode. */
export function holdingStatuses(mode: DeductionMode): OrderStatus[] {
  return spendsQuota(mode) ? ["PAID"] : ["PENDING_PAYMENT", "PAID"];
}

// A ticket id carries its activity id so the ticket's key (and slot) can be found from the id alone,
// and the Redis generation (META.epoch) that admitted it in its first 4 bytes, so a ticket Redis has
// lost can be told from one never issued (FlashCore.ticket); the other 96 bits are random.
export function newTicketId(activityId: string, epoch: number): string {
  if (randomAt === randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  randomPool.writeUInt32BE(epoch >>> 0, randomAt);
  const id = `${activityId}.${randomPool.toString("base64url", randomAt, randomAt + 16)}`;
  randomAt += 16;
  return id;
}
// Random bytes drawn 4 KB at a time (one call per 256 tickets, as randomUUID does), each byte used once.
const randomPool = Buffer.alloc(4096);
let randomAt = randomPool.length;

export function parseTicketId(ticketId: string): { activityId: string; epoch: number } | null {
  const m = /^([a-z0-9]{8,40})\.([A-Za-z0-9_-]{22})$/.exec(ticketId);
  return m ? { activityId: m[1]!, epoch: Buffer.from(m[2]!, "base64url").readUInt32BE(0) } : null;
}

const upperSnake = (name: string) =>
  name
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .replace(/:$/, "")
    .toUpperCase();
const luaLocals = (prefix: string, names: Record<string, string>) =>
  Object.entries(names).map(([k, v]) => `local ${prefix}${upperSnake(k)} = ${JSON.stringify(v)}`);

/**
 * The Lua names, generated from the constants above: M_* meta fields, T_* ticket fields, E_* stream
 * entry fields, S_* stats fields (S_REFUSED is the prefix), ST_* ticket states, G_* segment fields, FLAG_ON/FLAG_OFF,
 * RESTOCK_VOID, QUOTA_MODE, FINAL_DUPLICATE and counter_for(mode). One line, so a script's error line numbers are off by exactly one.
 */
export const LUA_HEADER = [
  ...luaLocals("M_", META),
  ...luaLocals("T_", TICKET),
  ...luaLocals("E_", ENTRY),
  ...luaLocals("S_", STATS),
  ...luaLocals("ST_", TICKET_STATE),
  ...luaLocals("G_", SEGMENT),
  ...luaLocals("C_", CHANNEL),
  `local FLAG_ON, FLAG_OFF, RESTOCK_VOID, QUOTA_MODE, FINAL_DUPLICATE = ${[FLAG_ON, FLAG_OFF, RESTOCK_VOID, QUOTA_MODE, FINAL_DUPLICATE].map((v) => JSON.stringify(v)).join(", ")}`,
  "local function counter_for(mode) if mode == QUOTA_MODE then return M_QUOTA end return M_STOCK end",
].join(" ");
