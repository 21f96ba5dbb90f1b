import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import { ActivityStateCache } from "@/lib/flash/activity-state";
import type { RefusalCode, RejectionCode } from "@/lib/flash/codes";
import {
  activityKeys,
  isSoldOut,
  newTicketId,
  parseTicketId,
  publishChange,
  writeMetrics,
  readTicket,
  TICKET_STATE,
  withScripts,
  type LatencyReport,
} from "@/lib/flash/store";
import { buyToken, verifyBuyToken } from "@/lib/flash/token";
import { errorText, log } from "@/lib/log";
import { NonPayerCache } from "@/lib/orders/non-payers";
import { countRefusal, observeAdmission } from "@/lib/ops/metrics";
import type { BuyInput } from "@/lib/flash/schemas";
import { aheadOf, type Progress, type TicketView } from "@/lib/flash/wire";

export type AdmitResult =
  | { ok: true; ticketId: string; sequence: number; duplicate: boolean }
  | { ok: false; code: RefusalCode };

/** The order written from a ticket (PostgreSQL), for tickets whose Redis hash has expired. */
export type OrderLookup = (
  ticketId: string,
) => Promise<{ userId: string; sequence: number; orderId: string; payBy: Date | null } | null>;

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

  private orderOf?: OrderLookup;

  constructor(redis: RedisClient, private tokenSecret: string, opts: { stateTtlMs?: number; orderOf?: OrderLookup } = {}) {
    this.orderOf = opts.orderOf;
    this.redis = withScripts(redis);
    this.states = new ActivityStateCache(redis, opts.stateTtlMs);
    this.nonPayers = new NonPayerCache(redis, opts.stateTtlMs ? opts.stateTtlMs * 8 : undefined);
  }

  /** Hands out the buy token once the activity is live (and, if the sale asks, to holders of a gate pass). */
  async issueToken(activityId: string, userId: string, now = Date.now(), gate: { hasPass?: boolean } = {}): Promise<TokenResult> {
    const state = await this.states.get(activityId, now);
    if (!state) return { ok: false, code: "NOT_FOUND" };
    if (state.status === "ENDED" || state.status === "CANCELLED" || now >= state.endMs) return { ok: false, code: "ENDED" };
    if (state.status === "DRAFT" || now < state.startMs) {
      return { ok: false, code: "NOT_STARTED", startAt: new Date(state.startMs).toISOString() };
    }
    if (state.passRequired && !gate.hasPass) return this.refuseLocally(activityId, "PASS_REQUIRED");
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
    if (this.states.soldOutFor(activityId, userId)) return this.refuseLocally(activityId, "SOLD_OUT");
    return null;
  }

  /** Admission (docs/architecture.md, step 4): one Lua script, one round trip, all or nothing. */
  async admit(activityId: string, userId: string, input: BuyInput, now = Date.now()): Promise<AdmitResult> {
    const state = await this.states.get(activityId, now);
    if (!state) return { ok: false, code: "NOT_FOUND" };
    // Fast refusals from the process-local view (the state just read); Lua checks everything again.
    const cached = this.refuseFromCache(activityId, userId, now);
    if (cached) return cached;
    if (state.refuseNonPayers && (await this.nonPayers.has(userId))) return this.refuseLocally(activityId, "NON_PAYER");
    if (!verifyBuyToken(this.tokenSecret, activityId, state.startMs, userId, input.token)) {
      // The start may have moved (start early): check against a state at most one refresh old. The
      // refresh is shared, so a flood of forged tokens costs Redis one read per refresh period.
      const fresh = await this.states.fresh(activityId, now);
      if (!fresh || !verifyBuyToken(this.tokenSecret, activityId, fresh.startMs, userId, input.token)) {
        return this.refuseLocally(activityId, "BAD_TOKEN");
      }
    }

    const keys = activityKeys(activityId);
    const ticketId = newTicketId(activityId);
    const started = performance.now();
    const reply = await this.redis.flashAdmit(
      keys.meta, keys.users, keys.idem, keys.stream, keys.ticket(ticketId), keys.stats,
      userId, input.quantity, input.idempotencyKey, now, ticketId,
    );
    this.recordLatency(performance.now() - started);
    const [kind, a, b, left] = reply;
    if (kind === "OK") {
      // The last unit went here: every other process hears it at once (pub/sub) rather than at its next
      // refresh. PAYMENT mode spends a quota, not stock: there the first SOLD_OUT or the refresh tells.
      if (left === 0) void publishChange(this.redis, activityId, "sold-out").catch((e: unknown) =>
          log.warn({ component: "flash", activityId, err: errorText(e) }, "sold-out announcement failed; others learn at their refresh"),
        );
      return { ok: true, ticketId: a, sequence: Number(b), duplicate: false };
    }
    if (kind === "DUP") return { ok: true, ticketId: a, sequence: Number(b), duplicate: true };
    const code = a as RefusalCode;
    countRefusal(code);
    if (code === "SOLD_OUT") this.states.invalidate(activityId);
    return { ok: false, code };
  }

  /** The owner's view of a ticket; null for anyone else, so a ticket reveals nothing (I5). */
  async ticket(ticketId: string, userId: string): Promise<TicketView | null> {
    const t = await readTicket(this.redis, ticketId);
    if (!t) return this.ticketFromOrder(ticketId, userId);
    if (t.owner !== userId) return null;
    const sequence = t.sequence;
    if (t.state === TICKET_STATE.confirmed) {
      return { status: t.state, sequence, orderId: t.orderId ?? "", ...(t.payByMs ? { payBy: new Date(t.payByMs).toISOString() } : {}) };
    }
    if (t.state === TICKET_STATE.rejected) return { status: t.state, sequence, code: (t.code as RejectionCode | null) ?? "SOLD_OUT" };
    const state = await this.states.get(t.activityId);
    return { status: TICKET_STATE.queued, sequence, ahead: aheadOf(sequence, state?.served ?? 0) };
  }

  /** A ticket whose Redis hash is gone (a retired sale's keys expired): its order, if one was written. */
  private async ticketFromOrder(ticketId: string, userId: string): Promise<TicketView | null> {
    if (!this.orderOf || !parseTicketId(ticketId)) return null;
    const o = await this.orderOf(ticketId);
    if (!o || o.userId !== userId) return null;
    return {
      status: TICKET_STATE.confirmed,
      sequence: o.sequence,
      orderId: o.orderId,
      ...(o.payBy ? { payBy: o.payBy.toISOString() } : {}),
    };
  }

  async progress(activityId: string, now = Date.now()): Promise<Progress | null> {
    const s = await this.states.get(activityId, now);
    if (!s) return null;
    return {
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
      serverTime: new Date(now).toISOString(),
    };
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
    await writeMetrics(this.redis, refusals, latency);
  }

  /** Counts a refusal answered before admission (rate limit, gate) for the dashboard. */
  countRefusal(activityId: string, code: RefusalCode): void {
    this.refuseLocally(activityId, code);
  }

  private refuseLocally(activityId: string, code: RefusalCode): { ok: false; code: RefusalCode } {
    countRefusal(code);
    let counts = this.localRefusals.get(activityId);
    if (!counts) this.localRefusals.set(activityId, (counts = new Map()));
    counts.set(code, (counts.get(code) ?? 0) + 1);
    return { ok: false, code };
  }

  private recordLatency(ms: number) {
    observeAdmission(ms);
    // A bounded reservoir: enough for a p95 per second without growing under load.
    if (this.latencies.length < 4096) this.latencies.push(ms);
    else this.latencies[Math.floor(Math.random() * 4096)] = ms;
  }
}
