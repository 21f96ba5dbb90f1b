import "server-only";
import type { Redis } from "ioredis";
import { activityKeys } from "@/lib/flash/keys";

/** An activity's hot admission state as Redis holds it (preheated from PostgreSQL). */
export interface ActivityState {
  id: string;
  status: string;
  startMs: number;
  endMs: number;
  /** Sellable units left in Redis. */
  stock: number;
  /** PAYMENT mode: orders that may still be admitted. */
  quota: number;
  limit: number;
  mode: "ORDER" | "RESERVE" | "PAYMENT";
  paused: boolean;
  /** Tickets admitted so far (the last sequence number). */
  admitted: number;
  /** Tickets with a final answer. */
  served: number;
  soldOutAt: number | null;
  /** Flagged non-payers are refused (per sale; preheated from activities.refuse_non_payers). */
  refuseNonPayers: boolean;
}

export function parseState(id: string, h: Record<string, string>): ActivityState | null {
  if (!h.status) return null;
  const num = (v: string | undefined) => (v ? Number(v) : 0);
  return {
    id,
    status: h.status,
    startMs: num(h.start),
    endMs: num(h.end),
    stock: num(h.stock),
    quota: num(h.quota),
    limit: num(h.limit),
    mode: (h.mode as ActivityState["mode"]) ?? "ORDER",
    paused: h.paused === "1",
    admitted: num(h.seq),
    served: num(h.served),
    soldOutAt: h.soldOutAt ? Number(h.soldOutAt) : null,
    refuseNonPayers: h.nonpay === "1",
  };
}

export function isSoldOut(s: ActivityState): boolean {
  return (s.mode === "PAYMENT" ? s.quota : s.stock) <= 0;
}

export async function readActivityState(redis: Redis, activityId: string): Promise<ActivityState | null> {
  return parseState(activityId, await redis.hgetall(activityKeys(activityId).meta));
}

interface Entry {
  state: ActivityState | null;
  fetchedAt: number;
  pending?: Promise<ActivityState | null>;
  /** Users holding units once sold out: only they can have a ticket to retry for. */
  buyers?: Set<string>;
}

/**
 * Process-local view of activity states, refreshed at most every `ttlMs` per activity no matter how
 * many requests ask: the progress endpoint and the sold-out flag read it, so their cost to Redis
 * stays flat as the crowd grows.
 */
export class ActivityStateCache {
  private entries = new Map<string, Entry>();

  constructor(
    private redis: Redis,
    private ttlMs = 250,
  ) {}

  async get(activityId: string, now = Date.now()): Promise<ActivityState | null> {
    const entry = this.entries.get(activityId);
    const age = entry ? now - entry.fetchedAt : Infinity;
    if (entry && age < this.ttlMs) return entry.state;
    const pending = entry?.pending ?? this.startRefresh(activityId, entry);
    // Slightly stale is fine for hints (Lua decides); a request never waits for a refresh it need not.
    if (entry && age < this.ttlMs * 8) return entry.state;
    return pending;
  }

  private startRefresh(activityId: string, entry: Entry | undefined): Promise<ActivityState | null> {
    const pending = this.refresh(activityId);
    pending.catch(() => undefined);
    if (entry) entry.pending = pending;
    else this.entries.set(activityId, { state: null, fetchedAt: 0, pending });
    return pending;
  }

  /** The cached state, even if stale, without asking Redis. */
  peek(activityId: string): ActivityState | null {
    return this.entries.get(activityId)?.state ?? null;
  }

  invalidate(activityId?: string): void {
    if (activityId) this.entries.delete(activityId);
    else this.entries.clear();
  }

  /** Can this user's request be answered SOLD_OUT without Redis? Only if they hold no units (so no retry to honour). */
  soldOutFor(activityId: string, userId: string): boolean {
    const entry = this.entries.get(activityId);
    if (!entry?.state || !isSoldOut(entry.state) || !entry.buyers) return false;
    return !entry.buyers.has(userId);
  }

  private async refresh(activityId: string): Promise<ActivityState | null> {
    const keys = activityKeys(activityId);
    const previous = this.entries.get(activityId);
    try {
      const state = parseState(activityId, await this.redis.hgetall(keys.meta));
      let buyers = previous?.buyers;
      if (state && isSoldOut(state)) {
        // Once sold out the buyer list only shrinks (refusals), so reading it once is enough.
        buyers ??= new Set(await this.redis.hkeys(keys.users));
      } else {
        buyers = undefined;
      }
      this.entries.set(activityId, { state, fetchedAt: Date.now(), buyers });
      return state;
    } catch (e) {
      const current = this.entries.get(activityId);
      if (current?.fetchedAt === 0) this.entries.delete(activityId);
      else if (current) current.pending = undefined;
      throw e;
    }
  }
}
