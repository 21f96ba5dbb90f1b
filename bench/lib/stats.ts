/** Latency samples in milliseconds; summarised with exact percentiles (nearest rank). */
export class Samples {
  private values = new Float64Array(1024);
  count = 0;

  add(ms: number) {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = ms;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    const sorted = this.values.slice(0, this.count).sort();
    const at = (q: number) => round(sorted[Math.min(this.count - 1, Math.ceil(q * this.count) - 1)]!);
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      count: this.count,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: round(sorted[this.count - 1]!),
      mean: round(sum / this.count),
    };
  }
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export class Counter<K extends string = string> {
  readonly counts: Partial<Record<K, number>> = {};
  add(key: K, n = 1) {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }
  get(key: K): number {
    return this.counts[key] ?? 0;
  }
  total(): number {
    return Object.values<number | undefined>(this.counts).reduce<number>((t, n) => t + (n ?? 0), 0);
  }
}
