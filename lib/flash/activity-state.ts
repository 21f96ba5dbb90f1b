import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import { isSoldOut, readBuyers, readState, type ActivityState } from "@/lib/flash/store";
import { errorText, log } from "@/lib/log";

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
    private redis: RedisClient,
    private ttlMs = 250,
  ) {}

  async get(activityId: string, now = Date.now()): Promise<ActivityState | null> {
    const ready = this.ready(activityId, now);
    if (ready !== undefined) return ready;
    const entry = this.entries.get(activityId);
    return entry?.pending ?? this.startRefresh(activityId, entry);
  }

  /**
   * What get() answers without waiting (starting the refresh it is due), or undefined when it would
   * wait for Redis. The hot paths call it first: an await on a settled answer still costs a promise.
   */
  ready(activityId: string, now = Date.now()): ActivityState | null | undefined {
    const entry = this.entries.get(activityId);
    if (!entry) return undefined;
    const age = now - entry.fetchedAt;
    if (age < this.ttlMs) return entry.state;
    // Slightly stale is fine for hints (Lua decides); a request never waits for a refresh it need not.
    if (age >= this.ttlMs * 8) return undefined;
    if (!entry.pending) this.startRefresh(activityId, entry);
    return entry.state;
  }

  private startRefresh(activityId: string, entry: Entry | undefined): Promise<ActivityState | null> {
    const pending = this.refresh(activityId);
    // A request served from the stale entry does not await this refresh: its failure is logged here.
    pending.catch((e: unknown) => log.warn({ component: "flash", activityId, err: errorText(e) }, "state refresh failed"));
    if (entry) entry.pending = pending;
    else this.entries.set(activityId, { state: null, fetchedAt: 0, pending });
    return pending;
  }

  /** The cached state, even if stale, without asking Redis. */
  peek(activityId: string): ActivityState | null {
    return this.entries.get(activityId)?.state ?? null;
  }

  /** A state fetched at most `ttlMs` ago: the cached one if young enough, else the (shared) refresh. */
  async fresh(activityId: string, now = Date.now()): Promise<ActivityState | null> {
    const entry = this.entries.get(activityId);
    if (entry && now - entry.fetchedAt < this.ttlMs) return entry.state;
    return entry?.pending ?? this.startRefresh(activityId, entry);
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
    const previous = this.entries.get(activityId);
    try {
      const state = await readState(this.redis, activityId);
      let buyers = previous?.buyers;
      if (state && isSoldOut(state)) {
        // Once sold out the buyer list only shrinks (refusals), so reading it once is enough.
        buyers ??= new Set(await readBuyers(this.redis, activityId));
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
