import "server-only";
import { LRUCache } from "lru-cache";
import type { RedisClient } from "@/lib/redis-connect";
import { ActivityStateCache } from "@/lib/flash/activity-state";
import type { RefusalCode, RejectionCode } from "@/lib/flash/codes";
import {
  META,
  WEB_CHANNEL,
  APP_CHANNEL,
  activityKeys,
  admissionKeys,
  channelAdmissionKeys,
  admitSplit,
  isSoldOut,
  newTicketId,
  parseTicketId,
  publishChange,
  readShopper,
  writeMetrics,
  writeTraces,
  readTicket,
  TICKET_STATE,
  withScripts,
  type ActivityState,
  type AdmissionReply,
  type LatencyReport,
  type ShopperRecord,
  type TicketRecord,
  type TraceEntry,
} from "@/lib/flash/store";
import { buyToken, verifyBuyToken } from "@/lib/flash/token";
import { errorText, log } from "@/lib/log";
import { NonPayerCache } from "@/lib/orders/non-payers";
import { countRefusal, observeAdmission } from "@/lib/ops/metrics";
import type { BuyInput } from "@/lib/flash/schemas";
import { aheadOf, type MissTrace, type OwnTicket, type Progress, type ShopperState, type TicketView } from "@/lib/flash/wire";

export type AdmitResult =
  | { ok: true; ticketId: string; sequence: number; duplicate: boolean }
  | { ok: false; code: RefusalCode };

/** The order written from a ticket (PostgreSQL), for tickets whose Redis hash has expired. */
export type OrderLookup = (
  ticketId: string,
) => Promise<{ userId: string; sequence: number; orderId: string; payBy: Date | null } | null>;

/** A shopper's orders in a sale (PostgreSQL), for /me once the sale's Redis keys have expired; null: no such sale. */
export type ShopperArchive = (
  activityId: string,
  userId: string,
) => Promise<{ held: number; orders: { ticketId: string; sequence: number; quantity: number; orderId: string; payBy: Date | null }[] } | null>;

/**
 * A sale as PostgreSQL has it: its Redis generation, and whether it is taking buyers (SCHEDULED or LIVE)
 * so a request finding no Redis state is told to retry (a rebuild is due) rather than NOT_FOUND.
 */
export type SaleLookup = (activityId: string) => Promise<{ epoch: number; open: boolean } | null>;

/**
 * Called when Redis handed out a sequence number this process had already seen it hand out in the
 * same generation: Redis went back in time (an AOF tail lost) without PostgreSQL noticing, because
 * the lost tickets never reached it. The handler rebuilds the sale from PostgreSQL (a new generation),
 * so the lost tickets answer REJECTED LOST_IN_FAILOVER instead of 404 forever.
 */
export type RewindHandler = (activityId: string, epoch: number) => Promise<unknown>;

// How long a retry waits for the first request of its key when that one is between its split-stock steps.
const SPLIT_WAIT_MS = 2_000;

// Shoppers whose in-process refusal is remembered per activity per flush: a flood costs bounded memory.
const TRACE_BUFFER_CAP = 50_000;
// Shoppers whose trace this process already wrote, per sale and Redis generation (HSETNX would keep
// the first anyway): the sold-out crowd's repeated clicks then cost no command at every flush.
const TRACES_WRITTEN_CAP = 200_000;

export type TokenResult = { ok: true; token: string } | { ok: false; code: RefusalCode; startAt?: string };

/**
 * The flash-sale core shared by every door: the storefront's server action, the Next.js route
 * handlers and the hot HTTP server. It holds no per-request state beyond the process-local caches.
 */
export class FlashCore {
  readonly states: ActivityStateCache;
  private nonPayers: NonPayerCache;
  private redis: RedisClient;
  private localRefusals = new Map<string, Map<RefusalCode, number>>();
  private latencies: number[] = [];
  private traces = new Map<string, Map<string, TraceEntry>>();
  private tracesWritten = new Map<string, { epoch: number; users: Set<string> }>();
  private progressOf = new WeakMap<ActivityState, Omit<Progress, "serverTime">>();

  private orderOf?: OrderLookup;
  private archiveOf?: ShopperArchive;
  private saleOf?: SaleLookup;
  // Answers of saleOf for a second: a crowd meeting an emptied Redis costs PostgreSQL one read per sale per second.
  private sales = new LRUCache<string, { epoch: number; open: boolean } | false>({ max: 10_000, ttl: 1_000 });
  private onRewind?: RewindHandler;
  // The highest sequence number seen per sale and generation: replies on the one connection arrive in
  // Redis's order, so a number at or below it means Redis lost writes it had acknowledged.
  private highest = new LRUCache<string, { epoch: number; seq: number }>({ max: 10_000 });
  private rebuilding = new Map<string, Promise<void>>();
  /** Replicas an admission must reach before its 202 (REDIS_WAIT_REPLICAS); 0: none. */
  private waitReplicas: number;
  private waitTimeoutMs: number;

  constructor(
    redis: RedisClient,
    private tokenSecret: string,
    opts: {
      stateTtlMs?: number;
      orderOf?: OrderLookup;
      archiveOf?: ShopperArchive;
      saleOf?: SaleLookup;
      onRewind?: RewindHandler;
      replicas?: { count: number; timeoutMs: number };
    } = {},
  ) {
    this.orderOf = opts.orderOf;
    this.archiveOf = opts.archiveOf;
    this.saleOf = opts.saleOf;
    this.onRewind = opts.onRewind;
    this.waitReplicas = opts.replicas?.count ?? 0;
    this.waitTimeoutMs = opts.replicas?.timeoutMs ?? 0;
    this.redis = withScripts(redis);
    this.states = new ActivityStateCache(redis, opts.stateTtlMs);
    this.nonPayers = new NonPayerCache(redis, opts.stateTtlMs ? opts.stateTtlMs * 8 : undefined);
  }

  /** Hands out the buy token once the activity is live (and, if the sale asks, to holders of a gate pass). */
  async issueToken(activityId: string, userId: string, now = Date.now(), gate: { hasPass?: boolean } = {}): Promise<TokenResult> {
    const state = this.states.ready(activityId, now) ?? (await this.states.get(activityId, now));
    if (!state) return { ok: false, code: await this.missingCode(activityId) };
    if (state.status === "ENDED" || state.status === "CANCELLED" || now >= state.endMs) return { ok: false, code: "ENDED" };
    if (state.status === "DRAFT" || now < state.startMs) {
      return { ok: false, code: "NOT_STARTED", startAt: new Date(state.startMs).toISOString() };
    }
    if (state.passRequired && !gate.hasPass) return this.refuseLocally(activityId, "PASS_REQUIRED", userId);
    return { ok: true, token: buyToken(this.tokenSecret, activityId, state.startMs, userId) };
  }

  /**
   * A refusal this process can give from its cached view alone (before the start, sold out for a
   * non-buyer), or null. Answered before the rate limit: it costs nothing, so it need not be limited.
   */
  refuseFromCache(activityId: string, userId: string, now = Date.now()): AdmitResult | null {
    const state = this.states.peek(activityId);
    if (!state) return null;
    if (now < state.startMs) return this.refuseLocally(activityId, "NOT_STARTED");
    if (this.states.soldOutFor(activityId, userId)) return this.refuseLocally(activityId, "SOLD_OUT", userId);
    return null;
  }

  /**
   * Admission (docs/architecture.md, step 4): one Lua script, one round trip, all or nothing.
   * `channel`: the sales channel the request came through (docs/channels.md); read only for a sale
   * split into channels, where it defaults to web.
   */
  async admit(activityId: string, userId: string, input: BuyInput, now = Date.now(), channel?: string): Promise<AdmitResult> {
    const state = this.states.ready(activityId, now) ?? (await this.states.get(activityId, now));
    if (!state) return { ok: false, code: await this.missingCode(activityId) };
    // Fast refusals from the process-local view (the state just read); Lua checks everything again.
    const cached = this.refuseFromCache(activityId, userId, now);
    if (cached) return cached;
    if (state.refuseNonPayers && (await this.nonPayers.has(userId))) return this.refuseLocally(activityId, "NON_PAYER", userId);
    // A partner's channel (docs/channels.md) buys only where the sale has a share for it.
    if (channel && channel !== WEB_CHANNEL && channel !== APP_CHANNEL && !state.channels) return this.refuseLocally(activityId, "SOLD_OUT", userId);
    if (!verifyBuyToken(this.tokenSecret, activityId, state.startMs, userId, input.token)) {
      // The start may have moved (start early): check against a state at most one refresh old. The
      // refresh is shared, so a flood of forged tokens costs Redis one read per refresh period.
      const fresh = await this.states.fresh(activityId, now);
      if (!fresh || !verifyBuyToken(this.tokenSecret, activityId, fresh.startMs, userId, input.token)) {
        return this.refuseLocally(activityId, "BAD_TOKEN", userId);
      }
    }

    let result = await this.runAdmission(activityId, userId, input, now, state, channel);
    if (!result.ok && result.code === "UNAVAILABLE") {
      // Redis refused this generation: a rebuild is under way, or it finished after our state was read.
      // One retry against a fresh state; while the rebuild runs the buyer gets 503 with Retry-After.
      this.states.invalidate(activityId);
      const fresh = await this.states.fresh(activityId, now);
      if (fresh && (fresh.epoch !== state.epoch || fresh.channels !== state.channels)) {
        result = await this.runAdmission(activityId, userId, input, now, fresh, channel);
      }
    }
    if (!result.ok) countRefusal(result.code);
    return result;
  }

  private async runAdmission(
    activityId: string, userId: string, input: BuyInput, now: number, state: Pick<ActivityState, "epoch" | "segments" | "channels">,
    channel: string | undefined,
  ): Promise<AdmitResult> {
    const { epoch } = state;
    const started = performance.now();
    const reply = state.segments > 1
      ? await this.admitSplitStock(activityId, userId, input, now, state)
      : await this.admitWhole(activityId, userId, input, now, epoch, state.channels ? (channel ?? WEB_CHANNEL) : undefined);
    // The stronger durability mode: WAIT on the connection that wrote, so it covers this admission
    // (and, auto-pipelined, every one sent before it). Off, it costs nothing: no command is sent.
    if (this.waitReplicas > 0 && (reply.kind === "OK" || reply.kind === "DUP")) {
      const acked = await this.redis.wait(this.waitReplicas, this.waitTimeoutMs);
      if (acked < this.waitReplicas) return this.refuseLocally(activityId, "UNAVAILABLE");
    }
    this.recordLatency(performance.now() - started);
    if (reply.kind === "OK") {
      // A split stock's steps call the witness as the reply arrives (their later steps would reorder it).
      // A drawn sequence number (fair entry) is below those handed out first come first served: no rewind.
      if (state.segments <= 1 && !reply.drawn) this.witness(activityId, epoch, reply.sequence);
      // The last unit went here: every other process hears it at once (pub/sub) rather than at its next
      // refresh. PAYMENT mode spends a quota, not stock: there the first SOLD_OUT or the refresh tells.
      if (reply.soldOut) void publishChange(this.redis, activityId, "sold-out").catch((e: unknown) =>
          log.warn({ component: "flash", activityId, err: errorText(e) }, "sold-out announcement failed; others learn at their refresh"),
        );
      return { ok: true, ticketId: reply.ticketId, sequence: reply.sequence, duplicate: false };
    }
    if (reply.kind === "DUP") return { ok: true, ticketId: reply.ticketId, sequence: reply.sequence, duplicate: true };
    if (reply.kind === "WAIT") return this.refuseLocally(activityId, "UNAVAILABLE");
    const code = reply.code as RefusalCode;
    // A channel's share gone is not the sale sold out: the others' crowds keep the cached state.
    if (code === "SOLD_OUT" && !state.channels) this.states.invalidate(activityId);
    return { ok: false, code };
  }

  /** One segment (not split): the whole admission is one script, one round trip. */
  private async admitWhole(
    activityId: string, userId: string, input: BuyInput, now: number, epoch: number, channel?: string,
  ): Promise<AdmissionReply> {
    const ticketId = newTicketId(activityId, epoch);
    const [kind, a, b, left, , drawn] = channel
      ? await this.redis.flashAdmitChannel(
        ...channelAdmissionKeys(activityId, ticketId), userId, input.quantity, input.idempotencyKey, now, ticketId, epoch, "", "", "", channel,
      )
      : await this.redis.flashAdmit(
        ...admissionKeys(activityId, ticketId), userId, input.quantity, input.idempotencyKey, now, ticketId, epoch,
      );
    if (kind === "OK") return { kind, ticketId: a, sequence: Number(b), soldOut: left === 0, drawn: drawn === "D" };
    if (kind === "DUP") return { kind, ticketId: a, sequence: Number(b) };
    return { kind: "NO", code: a };
  }

  /**
   * A split stock (lib/flash/store/split.ts): reserve, take from a segment, commit. A retry of a key
   * whose first request is between those steps waits for its answer (SPLIT_WAIT_MS at most, then 503).
   */
  private async admitSplitStock(
    activityId: string, userId: string, input: BuyInput, now: number, state: Pick<ActivityState, "epoch" | "segments">,
  ): Promise<AdmissionReply> {
    const deadline = performance.now() + SPLIT_WAIT_MS;
    for (;;) {
      const reply = await admitSplit(this.redis, {
        activityId, userId, quantity: input.quantity, idempotencyKey: input.idempotencyKey, nowMs: now,
        ticketId: newTicketId(activityId, state.epoch), epoch: state.epoch, segments: state.segments,
        onSequence: (seq) => this.witness(activityId, state.epoch, seq),
      });
      if (reply.kind !== "WAIT" || performance.now() > deadline) return reply;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private witness(activityId: string, epoch: number, seq: number): void {
    const seen = this.highest.get(activityId);
    if (!seen || seen.epoch !== epoch || seq > seen.seq) return void this.highest.set(activityId, { epoch, seq });
    if (!this.onRewind || this.rebuilding.has(activityId)) return;
    log.warn({ component: "flash", activityId, epoch, seq, seen: seen.seq }, "Redis handed out a sequence number again: rewound; rebuilding");
    void this.rebuildRewound(activityId, epoch);
  }

  /**
   * A ticket Redis does not know in the generation it was minted for: if Redis's last sequence number
   * is now below one this process saw it hand out in that generation, Redis went back in time and no
   * later admission showed it (the sale sold out or ended at the crash, nobody bought since). Rebuilds
   * then, and resolves once done. Costs one HMGET, and only on a lookup of an unknown ticket.
   */
  private async sequenceBehind(activityId: string, epoch: number): Promise<boolean> {
    const seen = this.highest.get(activityId);
    if (!this.onRewind || !seen || seen.epoch !== epoch) return false;
    const [mark, seq] = await this.redis.hmget(activityKeys(activityId).meta, META.epoch, META.seq);
    if (mark === null || Number(mark) !== epoch || Number(seq ?? 0) >= seen.seq) return false;
    log.warn({ component: "flash", activityId, epoch, seq, seen: seen.seq }, "Redis's sequence is behind one it handed out: rewound; rebuilding");
    await this.rebuildRewound(activityId, epoch);
    return true;
  }

  /** One rebuild at a time per sale after a witnessed rewind; the promise settles when it is over. */
  private rebuildRewound(activityId: string, epoch: number): Promise<void> {
    const running = this.rebuilding.get(activityId);
    if (running || !this.onRewind) return running ?? Promise.resolve();
    const done = this.onRewind(activityId, epoch)
      .then(() => undefined)
      .catch((e: unknown) => log.error({ component: "flash", activityId, err: errorText(e) }, "rebuild after a rewind failed"))
      .finally(() => {
        this.rebuilding.delete(activityId);
        this.highest.delete(activityId);
        this.states.invalidate(activityId);
        this.sales.delete(activityId);
      });
    this.rebuilding.set(activityId, done);
    return done;
  }

  /** No Redis state for the sale: UNAVAILABLE (retry) if PostgreSQL has it open, else NOT_FOUND. */
  private async missingCode(activityId: string): Promise<RefusalCode> {
    const sale = await this.sale(activityId);
    return sale?.open ? "UNAVAILABLE" : "NOT_FOUND";
  }

  private async sale(activityId: string) {
    if (!this.saleOf) return null;
    let hit = this.sales.get(activityId);
    if (hit === undefined) this.sales.set(activityId, (hit = (await this.saleOf(activityId)) ?? false));
    return hit || null;
  }

  /** The owner's view of a ticket; null for anyone else, so a ticket reveals nothing (I5). */
  async ticket(ticketId: string, userId: string): Promise<TicketView | null> {
    const t = await readTicket(this.redis, ticketId);
    if (!t) return this.ticketFromOrder(ticketId, userId);
    if (t.owner !== userId) return null;
    if (t.state !== TICKET_STATE.queued) return viewOf(t, null);
    return viewOf(t, this.states.ready(t.activityId) ?? (await this.states.get(t.activityId)));
  }

  /**
   * The shopper's own state in a sale (GET …/me): one Redis round trip (me.lua) beside the cached
   * activity state; PostgreSQL's orders once the sale's keys are gone. null: no such sale.
   */
  async me(activityId: string, userId: string, now = Date.now()): Promise<ShopperState | null> {
    const state = this.states.ready(activityId, now) ?? (await this.states.get(activityId, now));
    if (!state) return this.meFromOrders(activityId, userId);
    const r = await readShopper(this.redis, activityId, userId);
    return {
      activityId,
      held: r.held,
      tickets: r.tickets.map((t): OwnTicket => ({ ...viewOf(t, state), ticketId: t.ticketId, quantity: t.quantity })),
      trace: traceOf(r, state),
      source: "live",
    };
  }

  private async meFromOrders(activityId: string, userId: string): Promise<ShopperState | null> {
    const a = await this.archiveOf?.(activityId, userId);
    if (!a) return null;
    const tickets = a.orders.map((o): OwnTicket => ({
      status: TICKET_STATE.confirmed,
      ticketId: o.ticketId,
      sequence: o.sequence,
      quantity: o.quantity,
      orderId: o.orderId,
      ...(o.payBy ? { payBy: o.payBy.toISOString() } : {}),
    }));
    return { activityId, held: a.held, tickets, trace: null, source: "archive" };
  }

  /**
   * A ticket whose Redis hash is gone (a retired sale's keys expired, or Redis lost it): its order if
   * one was written; else, if it was minted under a Redis generation a rebuild has since ended, it is
   * final: REJECTED LOST_IN_FAILOVER (the rebuild counted its unit back; no worker may write it now,
   * lib/orders/persist.ts). Its owner is unknown then, and the answer says nothing about anyone.
   * A ticket of the current generation may have been lost in a rewind nothing else noticed: checked
   * against the sequence numbers this process handed out (sequenceBehind) before it is called unknown.
   */
  private async ticketFromOrder(ticketId: string, userId: string): Promise<TicketView | null> {
    const parsed = parseTicketId(ticketId);
    if (!this.orderOf || !parsed) return null;
    const o = await this.orderOf(ticketId);
    if (!o) {
      // Generations only grow: a cached one that already makes the ticket older is the answer; one
      // that does not may be a rebuild behind, so PostgreSQL is asked again.
      let sale = await this.sale(parsed.activityId);
      if (sale && parsed.epoch >= sale.epoch) {
        await this.sequenceBehind(parsed.activityId, parsed.epoch);
        this.sales.delete(parsed.activityId);
        sale = await this.sale(parsed.activityId);
      }
      return sale && parsed.epoch < sale.epoch ? { status: TICKET_STATE.rejected, sequence: 0, code: "LOST_IN_FAILOVER" } : null;
    }
    if (o.userId !== userId) return null;
    return {
      status: TICKET_STATE.confirmed,
      sequence: o.sequence,
      orderId: o.orderId,
      ...(o.payBy ? { payBy: o.payBy.toISOString() } : {}),
    };
  }

  async progress(activityId: string, now = Date.now()): Promise<Progress | null> {
    const s = this.states.ready(activityId, now) ?? (await this.states.get(activityId, now));
    if (!s) return null;
    // Everything but the clock comes from the state, which a refresh replaces (never changes): made once per state.
    let base = this.progressOf.get(s);
    if (!base) {
      base = {
        activityId,
        status: s.status,
        paused: s.paused,
        startAt: new Date(s.startMs).toISOString(),
        endAt: new Date(s.endMs).toISOString(),
        stockLeft: Math.max(0, s.stock),
        soldOut: isSoldOut(s),
        soldOutAt: s.soldOutAt ? new Date(s.soldOutAt).toISOString() : null,
        admitted: s.admitted,
        served: s.served,
      };
      this.progressOf.set(s, base);
    }
    return { ...base, serverTime: new Date(now).toISOString() };
  }

  /** Pushes the refusals answered in-process and the latency sample to Redis for the dashboard. */
  async flushMetrics(): Promise<void> {
    const refusals = this.localRefusals;
    this.localRefusals = new Map();
    const samples = this.latencies;
    this.latencies = [];
    let latency: LatencyReport | null = null;
    if (samples.length) {
      samples.sort((x, y) => x - y);
      const p95 = samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.95))]!;
      latency = { p95, n: samples.length, at: Date.now() };
    }
    const traces = this.traces;
    this.traces = new Map();
    await Promise.all([writeMetrics(this.redis, refusals, latency), writeTraces(this.redis, traces)]);
    for (const [activityId, byUser] of traces) {
      const written = this.writtenTraces(activityId);
      if (!written) continue;
      for (const userId of byUser.keys()) {
        if (written.size >= TRACES_WRITTEN_CAP) break;
        written.add(userId);
      }
    }
  }

  /**
   * The shoppers of a sale whose trace is in Redis from this process, for the current generation (a
   * rebuild starts a new trace hash); null when the sale's state is not cached.
   */
  private writtenTraces(activityId: string): Set<string> | null {
    const epoch = this.states.peek(activityId)?.epoch;
    if (epoch === undefined) {
      this.tracesWritten.delete(activityId); // its keys may be gone (forgetActivity): start again
      return null;
    }
    let written = this.tracesWritten.get(activityId);
    if (!written || written.epoch !== epoch) {
      if (!written && this.tracesWritten.size >= 1_000) this.tracesWritten.clear();
      this.tracesWritten.set(activityId, (written = { epoch, users: new Set() }));
    }
    return written.users;
  }

  /** Counts a refusal answered before admission (rate limit, gate) for the dashboard, and the shopper's trace. */
  countRefusal(activityId: string, code: RefusalCode, userId?: string): void {
    this.refuseLocally(activityId, code, userId);
  }

  private refuseLocally(activityId: string, code: RefusalCode, userId?: string): { ok: false; code: RefusalCode } {
    countRefusal(code);
    let counts = this.localRefusals.get(activityId);
    if (!counts) this.localRefusals.set(activityId, (counts = new Map()));
    counts.set(code, (counts.get(code) ?? 0) + 1);
    // As admission.lua notes it: the first decided attempt, a click before the start decides nothing.
    if (userId && code !== "NOT_STARTED" && !this.writtenTraces(activityId)?.has(userId)) {
      let byUser = this.traces.get(activityId);
      if (!byUser) this.traces.set(activityId, (byUser = new Map()));
      if (!byUser.has(userId) && byUser.size < TRACE_BUFFER_CAP) byUser.set(userId, { atMs: Date.now(), code });
    }
    return { ok: false, code };
  }

  private recordLatency(ms: number) {
    observeAdmission(ms);
    // A bounded reservoir: enough for a p95 per second without growing under load.
    if (this.latencies.length < 4096) this.latencies.push(ms);
    else this.latencies[Math.floor(Math.random() * 4096)] = ms;
  }
}

/** The owner's view of a ticket record; `state` (the activity's) gives a queued ticket its place. */
function viewOf(t: TicketRecord, state: ActivityState | null): TicketView {
  const sequence = t.sequence;
  if (t.state === TICKET_STATE.confirmed) {
    return { status: t.state, sequence, orderId: t.orderId ?? "", ...(t.payByMs ? { payBy: new Date(t.payByMs).toISOString() } : {}) };
  }
  if (t.state === TICKET_STATE.rejected) return { status: t.state, sequence, code: (t.code as RejectionCode | null) ?? "SOLD_OUT" };
  return { status: TICKET_STATE.queued, sequence, ahead: aheadOf(sequence, state?.served ?? 0) };
}

/** The shopper's first decided attempt: their first admission (its ticket) or first refusal, whichever came first. */
function traceOf(r: ShopperRecord, state: ActivityState): MissTrace | null {
  const first = r.tickets.find((t) => t.atMs !== null);
  const admittedFirst = first?.atMs != null && (!r.trace || first.atMs <= r.trace.atMs);
  const at = admittedFirst ? first!.atMs! : r.trace?.atMs;
  if (at === undefined) return null;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    startAt: iso(state.startMs),
    at: iso(at),
    outcome: admittedFirst ? "ADMITTED" : (r.trace!.code as RefusalCode),
    sequence: admittedFirst ? first!.sequence : null,
    lastUnit: state.lastUnit && { sequence: state.lastUnit.sequence, at: iso(state.lastUnit.atMs) },
  };
}
