import type { RedisClient } from "@/lib/redis-connect";
import { META, activityKeys } from "@/lib/flash/store";

interface Sample {
  t: number;
  stock: number;
  seq: number;
  served: number;
}

/**
 * Reads an activity's counters every 10 ms during a phase: the lowest stock Redis ever held (I1 says
 * never negative, so a correct end state is not enough) and how fast the workers answered tickets.
 */
export class CounterSampler {
  private samples: Sample[] = [];
  private timer?: NodeJS.Timeout;
  private reading = false;
  minStock: number | null = null;

  constructor(
    private r: RedisClient,
    private activityId: string,
  ) {}

  start() {
    const key = activityKeys(this.activityId).meta;
    this.timer = setInterval(() => {
      if (this.reading || this.samples.length > 200_000) return;
      this.reading = true;
      void this.r
        .hmget(key, META.stock, META.seq, META.served)
        .then(([stock, seq, served]) => {
          const s = { t: Date.now(), stock: Number(stock), seq: Number(seq ?? 0), served: Number(served ?? 0) };
          this.samples.push(s);
          if (this.minStock === null || s.stock < this.minStock) this.minStock = s.stock;
        })
        .catch(() => undefined)
        .finally(() => (this.reading = false));
    }, 10);
  }

  /** Stops sampling after one last reading, so the end state is always in the samples. */
  async stop() {
    clearInterval(this.timer);
    const [stock, seq, served] = await this.r.hmget(activityKeys(this.activityId).meta, META.stock, META.seq, META.served);
    this.samples.push({ t: Date.now(), stock: Number(stock), seq: Number(seq ?? 0), served: Number(served ?? 0) });
  }

  /** The longest time between two readings: a stalled sampler makes the timings coarse. */
  maxGapMs(): number {
    let gap = 0;
    for (let i = 1; i < this.samples.length; i++) gap = Math.max(gap, this.samples[i]!.t - this.samples[i - 1]!.t);
    return gap;
  }

  /** When the last ticket got its answer (served caught up with admitted for good), or null. */
  allAnsweredAt(): number | null {
    const last = this.samples[this.samples.length - 1];
    if (!last || last.seq === 0 || last.served !== last.seq) return null;
    return this.samples.find((s) => s.served === last.served)?.t ?? null;
  }

  /**
   * How fast the workers answered tickets. End to end: from the first admission to the last answer,
   * which is bounded by admission when the workers keep up. Saturated: only while at least a full
   * batch per worker was waiting, i.e. what the workers can do when they are the bottleneck.
   */
  persistence(batch: number, workers: number): Persistence | null {
    const first = this.samples.find((s) => s.seq > 0);
    const doneAt = this.allAnsweredAt();
    const done = this.samples.find((s) => s.t === doneAt);
    if (!first || !done) return null;
    const seconds = Math.max(0.01, (done.t - first.t) / 1000);
    let maxBacklog = 0;
    for (const s of this.samples) maxBacklog = Math.max(maxBacklog, s.seq - s.served);
    const full = this.samples.filter((s) => s.seq - s.served >= batch * Math.max(1, workers));
    let saturated: Persistence["saturated"] = null;
    if (full.length >= 2) {
      const a = full[0]!;
      const b = full[full.length - 1]!;
      if (b.t - a.t >= 100)
        saturated = {
          orders: b.served - a.served,
          seconds: (b.t - a.t) / 1000,
          perSec: Math.round(((b.served - a.served) * 1000) / (b.t - a.t)),
        };
    }
    return {
      orders: done.served,
      seconds: Math.round(seconds * 1000) / 1000,
      perSec: Math.round(done.served / seconds),
      maxBacklog,
      saturated,
    };
  }
}

export interface Persistence {
  orders: number;
  seconds: number;
  perSec: number;
  maxBacklog: number;
  saturated: { orders: number; seconds: number; perSec: number } | null;
}
