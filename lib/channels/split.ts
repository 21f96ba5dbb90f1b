/*
 * The proposed split of a sale's sellable stock over its sales channels (docs/channels.md): each
 * channel's history (sales volume, conversion rate, average order value) is normalised to its share
 * of the channels' total on that measure, weighted (0.5 volume + 0.3 conversion + 0.2 AOV by
 * default), and the units shared out by largest remainder so they sum to the sellable stock exactly.
 * Pure: the admin console, the tests and the docs' worked example use the same function.
 */

export interface ChannelHistory {
  channel: string;
  /** Units sold. */
  volume: number;
  /** Conversion rate, per mille (0..1000). */
  conversion: number;
  /** Average order value, minor units. */
  aov: number;
}

export interface SplitWeights {
  volume: number;
  conversion: number;
  aov: number;
}

export const DEFAULT_WEIGHTS: SplitWeights = { volume: 0.5, conversion: 0.3, aov: 0.2 };

/** Each channel's score in [0, 1] (they sum to 1); equal when no history says anything. */
export function channelScores(rows: ChannelHistory[], w: SplitWeights = DEFAULT_WEIGHTS): number[] {
  const measures = ["volume", "conversion", "aov"] as const;
  const totals = measures.map((m) => rows.reduce((n, r) => n + Math.max(0, r[m]), 0));
  const raw = rows.map((r) => measures.reduce((n, m, i) => n + (totals[i]! > 0 ? (w[m] * Math.max(0, r[m])) / totals[i]! : 0), 0));
  const sum = raw.reduce((n, x) => n + x, 0);
  return sum > 0 ? raw.map((x) => x / sum) : rows.map(() => 1 / Math.max(1, rows.length));
}

/** Units per channel, in the rows' order, summing to `sellable` (largest remainder; ties to the earlier row). */
export function proposeSplit(sellable: number, rows: ChannelHistory[], w: SplitWeights = DEFAULT_WEIGHTS): number[] {
  if (rows.length === 0) return [];
  const exact = channelScores(rows, w).map((s) => s * sellable);
  const units = exact.map(Math.floor);
  let rest = sellable - units.reduce((n, x) => n + x, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; rest > 0; k = (k + 1) % order.length, rest--) {
    const j = order[k]![1];
    units[j] = units[j]! + 1;
  }
  return units;
}
