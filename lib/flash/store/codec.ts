import type { DeductionMode } from "@/lib/generated/prisma/enums";
import {
  ENTRY,
  FLAG_OFF,
  FLAG_ON,
  META,
  STATS,
  TICKET,
  TICKET_STATE,
  counterFor,
  type TicketState,
} from "@/lib/flash/store/layout";

// Encoding and decoding of the hashes and stream entries named in layout.ts.

const num = (v: string | null | undefined) => (v ? Number(v) : 0);

/** An activity's hot admission state as {act:ID}:meta holds it (preheated from PostgreSQL). */
export interface ActivityState {
  id: string;
  status: string;
  startMs: number;
  endMs: number;
  /** Sellable units left in Redis. */
  stock: number;
  /** PAYMENT mode: orders that may still be admitted. */
  quota: number;
  /** What admission may still take: the counter it spends (counterFor the mode). */
  left: number;
  limit: number;
  mode: DeductionMode;
  paused: boolean;
  /** Tickets admitted so far (the last sequence number). */
  admitted: number;
  /** Tickets with a final answer. */
  served: number;
  soldOutAt: number | null;
  /** The ticket that took the last unit at the latest sell-out (kept when units come back). */
  lastUnit: { sequence: number; atMs: number } | null;
  /** The stock field is there: preheat finished writing (mirror.lua and restock.lua check the same). */
  preheated: boolean;
  /** The generation of this Redis state (META.epoch), marked by the rebuild from PostgreSQL that made it. */
  epoch: number;
  /** The gate: buy tokens only for holders of a pass (the sale's human check solved). */
  passRequired: boolean;
  /** The sale's ALTCHA difficulty; 0 when not set. */
  captchaCost: number;
  /** Flagged non-payers are refused at admission. */
  refuseNonPayers: boolean;
  /** Fair entry: the sale has a pre-queue (admission waits for its draw once started). */
  prequeue: boolean;
  /** The draw is in Redis; until when drawn shoppers' units are held (ms), null before the draw. */
  drawUntilMs: number | null;
  /** Units still held for drawn shoppers who have not bought (admission ignores them after drawUntilMs). */
  drawHeld: number;
  /** The waitlist: shoppers waiting plus open offers (admission leaves units to them). */
  waitlistHold: number;
  /** Segments the counter admission spends is split into (1: not split); `stock`/`quota`/`left` are their sums. */
  segments: number;
  /** The stock is split into sales channels (docs/channels.md): admission takes from the request's channel. */
  channels: boolean;
}

/**
 * null: no activity in Redis (never preheated, forgotten, or lost), or a state no rebuild from
 * PostgreSQL has marked ready (META.epoch): a preheat half-way (read as "sold out" it made a fresh
 * sale look gone for a moment) or a rebuild under way. Admission refuses those too (admission.lua).
 */
export function decodeMeta(id: string, h: Record<string, string>, segmentLeft: number[] = []): ActivityState | null {
  const status = h[META.status];
  if (!status || h[META.stock] === undefined || h[META.epoch] === undefined) return null;
  const mode = (h[META.mode] as DeductionMode | undefined) ?? "ORDER";
  // A split stock: meta holds segment 0 of the counter admission spends, the segment hashes the rest.
  const counter = counterFor(mode);
  const more = segmentLeft.reduce((n, x) => n + x, 0);
  const value = (field: typeof META.stock | typeof META.quota) => num(h[field]) + (field === counter ? more : 0);
  return {
    id,
    status,
    startMs: num(h[META.start]),
    endMs: num(h[META.end]),
    stock: value(META.stock),
    quota: value(META.quota),
    left: value(counter),
    limit: num(h[META.limit]),
    mode,
    paused: h[META.paused] === FLAG_ON,
    // Drawn sequence numbers nobody has claimed are no tickets (fair entry).
    admitted: num(h[META.seq]) - num(h[META.drawGap]),
    served: num(h[META.served]),
    soldOutAt: h[META.soldOutAt] ? Number(h[META.soldOutAt]) : null,
    lastUnit: decodeLastUnit(h[META.lastUnit]),
    preheated: h[META.stock] !== undefined,
    epoch: num(h[META.epoch]),
    passRequired: h[META.pass] === FLAG_ON,
    captchaCost: num(h[META.pow]),
    refuseNonPayers: h[META.nonPayers] === FLAG_ON,
    prequeue: h[META.prequeue] === FLAG_ON,
    drawUntilMs: h[META.drawUntil] ? Number(h[META.drawUntil]) : null,
    drawHeld: num(h[META.drawHeld]),
    waitlistHold: num(h[META.wlHold]),
    segments: segmentCount(h),
    channels: h[META.channels] === FLAG_ON,
  };
}

/** Segments of a sale's counter as meta records them (absent: 1, not split). */
export const segmentCount = (h: Record<string, string | undefined>) => Math.max(1, num(h[META.segments]));

function decodeLastUnit(v: string | undefined): ActivityState["lastUnit"] {
  const [seq, at] = (v ?? "").split("|");
  return seq && at ? { sequence: Number(seq), atMs: Number(at) } : null;
}

/** Sold out: the counter admission spends is used up. */
export function isSoldOut(s: Pick<ActivityState, "left">): boolean {
  return s.left <= 0;
}

/** The rules an admin or the preheat writes into meta; counters are written by their own steps. */
export interface MetaRules {
  status: string;
  startMs: number;
  endMs: number;
  limit: number;
  mode: DeductionMode;
  paused: boolean;
  price: number;
  paymentWindowSec: number;
  passRequired: boolean;
  captchaDifficulty: number;
  refuseNonPayers: boolean;
  prequeue: boolean;
}

const RULE_FIELDS: { [K in keyof MetaRules]: (typeof META)[keyof typeof META] } = {
  status: META.status,
  startMs: META.start,
  endMs: META.end,
  limit: META.limit,
  mode: META.mode,
  paused: META.paused,
  price: META.price,
  paymentWindowSec: META.paywin,
  passRequired: META.pass,
  captchaDifficulty: META.pow,
  refuseNonPayers: META.nonPayers,
  prequeue: META.prequeue,
};

/** Rules as meta fields, for HSET (an object) or a script's ARGV (`Object.entries(…).flat()`). */
export function encodeRules(rules: Partial<MetaRules>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(rules) as [keyof MetaRules, MetaRules[keyof MetaRules]][]) {
    if (v === undefined) continue;
    out[RULE_FIELDS[k]] = typeof v === "boolean" ? (v ? FLAG_ON : FLAG_OFF) : v;
  }
  return out;
}

/** A ticket as its hash holds it; read the fields in the order of TICKET_FIELDS. */
export interface TicketRecord {
  owner: string;
  sequence: number;
  quantity: number;
  state: TicketState;
  orderId: string | null;
  payByMs: number | null;
  code: string | null;
  /** When admission took it (ms); null for tickets admitted before the field existed. */
  atMs: number | null;
}

export const TICKET_FIELDS = [
  TICKET.user,
  TICKET.seq,
  TICKET.qty,
  TICKET.state,
  TICKET.order,
  TICKET.payBy,
  TICKET.code,
  TICKET.at,
];

/** null: no such ticket. */
export function decodeTicket(values: (string | null)[]): TicketRecord | null {
  const [owner, seq, qty, state, orderId, payBy, code, at] = values;
  if (!owner) return null;
  return {
    owner,
    sequence: num(seq),
    quantity: num(qty),
    state: (state as TicketState | null) ?? TICKET_STATE.queued,
    orderId: orderId || null,
    payByMs: payBy ? Number(payBy) : null,
    code: code || null,
    atMs: at ? Number(at) : null,
  };
}

/**
 * A shopper's first refused attempt in a sale ({act:ID}:trace, "atMs|code"), written by
 * admission.lua or by a web process for refusals it answered itself (FlashCore.flushMetrics). An
 * admitted attempt needs no entry: its ticket has the time (TICKET.at).
 */
export interface TraceEntry {
  atMs: number;
  code: string;
}

export const encodeTrace = (t: TraceEntry) => `${t.atMs}|${t.code}`;

export function decodeTrace(v: string | null | undefined): TraceEntry | null {
  const [at, code] = (v ?? "").split("|");
  return at && code ? { atMs: Number(at), code } : null;
}

/** What me.lua read for one shopper: units held, their trace, their tickets. */
export interface ShopperRecord {
  held: number;
  trace: TraceEntry | null;
  tickets: (TicketRecord & { ticketId: string })[];
}

/** me.lua's flat reply: held, trace, then per ticket its id and TICKET_FIELDS. */
export function decodeShopper(reply: string[]): ShopperRecord {
  const [held, trace, ...rest] = reply;
  const tickets: ShopperRecord["tickets"] = [];
  const width = TICKET_FIELDS.length + 1;
  for (let i = 0; i + width <= rest.length; i += width) {
    const t = decodeTicket(rest.slice(i + 1, i + width));
    if (t) tickets.push({ ...t, ticketId: rest[i]! });
  }
  return { held: num(held), trace: decodeTrace(trace), tickets };
}

/** An order request as admission appended it to the activity's stream. */
export interface StreamEntry {
  entryId: string;
  ticketId: string;
  userId: string;
  quantity: number;
  sequence: number;
  /** The buyer's idempotency key; null on entries written before keys travelled with the ticket. */
  idempotencyKey: string | null;
  /** The sales channel it was admitted through (docs/channels.md); null for a sale without channels. */
  channel: string | null;
}

/** A stream entry from its flat [field, value, …] list (XREADGROUP, XAUTOCLAIM, XRANGE). */
export function decodeEntry(entryId: string, fields: string[]): StreamEntry {
  let ticketId = "";
  let userId = "";
  let quantity = 0;
  let sequence = 0;
  let idempotencyKey: string | null = null;
  let channel: string | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1]!;
    switch (fields[i]) {
      case ENTRY.ticket:
        ticketId = v;
        break;
      case ENTRY.user:
        userId = v;
        break;
      case ENTRY.qty:
        quantity = Number(v);
        break;
      case ENTRY.seq:
        sequence = Number(v);
        break;
      case ENTRY.idem:
        idempotencyKey = v;
        break;
      case ENTRY.channel:
        channel = v;
        break;
    }
  }
  return { entryId, ticketId, userId, quantity, sequence, idempotencyKey, channel };
}

/** The dashboard's counters in {act:ID}:stats. */
export interface Counters {
  admitted: number;
  admittedUnits: number;
  confirmed: number;
  confirmedUnits: number;
  rejected: number;
  rejectedUnits: number;
  refused: Record<string, number>;
  refusedTotal: number;
}

export function decodeStats(h: Record<string, string>): Counters {
  const refused: Record<string, number> = {};
  for (const [field, value] of Object.entries(h)) {
    if (field.startsWith(STATS.refused)) refused[field.slice(STATS.refused.length)] = Number(value);
  }
  return {
    admitted: num(h[STATS.admitted]),
    admittedUnits: num(h[STATS.admittedUnits]),
    confirmed: num(h[STATS.confirmed]),
    confirmedUnits: num(h[STATS.confirmedUnits]),
    rejected: num(h[STATS.rejected]),
    rejectedUnits: num(h[STATS.rejectedUnits]),
    refused,
    refusedTotal: Object.values(refused).reduce((s, x) => s + x, 0),
  };
}

export const refusedField = (code: string) => `${STATS.refused}${code}`;

/** One web process's admission latency report in LATENCY_KEY. */
export interface LatencyReport {
  p95: number;
  n: number;
  at: number;
}

export const encodeLatency = (r: LatencyReport) => JSON.stringify(r);

/** null: malformed (a report from an older or broken process is skipped). */
export function decodeLatency(raw: string): LatencyReport | null {
  try {
    const e = JSON.parse(raw) as Partial<Record<keyof LatencyReport, unknown>>;
    if (typeof e.p95 !== "number" || typeof e.at !== "number") return null;
    return { p95: e.p95, at: e.at, n: typeof e.n === "number" ? e.n : 0 };
  } catch {
    return null;
  }
}

/** A message on EVENTS_CHANNEL: something about an activity changed, drop what you cached of it. */
export interface ChangeEvent {
  activityId: string;
  event: string;
}

export const encodeChange = (e: ChangeEvent) => JSON.stringify(e);

/** null: unreadable, so the listener should drop everything it cached. */
export function decodeChange(message: string): ChangeEvent | null {
  try {
    const e = JSON.parse(message) as Partial<ChangeEvent>;
    return typeof e.activityId === "string" && typeof e.event === "string"
      ? { activityId: e.activityId, event: e.event }
      : null;
  } catch {
    return null;
  }
}

/** A stream entry the workers gave up on (DEAD_LETTERS). */
export interface DeadLetter {
  activityId: string;
  entryId: string;
  ticketId: string;
  userId: string;
  attempts: number;
  error: string;
  at: number;
}

export const encodeDeadLetter = (d: DeadLetter) => JSON.stringify(d);

/** null: unreadable (skipped by the dashboard). */
export function decodeDeadLetter(raw: string): DeadLetter | null {
  try {
    const d = JSON.parse(raw) as Partial<DeadLetter>;
    return typeof d.activityId === "string" && typeof d.entryId === "string" && typeof d.at === "number" ? (d as DeadLetter) : null;
  } catch {
    return null;
  }
}
