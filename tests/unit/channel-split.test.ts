import { describe, expect, it } from "vitest";
import { channelScores, proposeSplit } from "@/lib/channels/split";

describe("channel split proposal (docs/channels.md)", () => {
  const rows = [
    { channel: "web", volume: 600, conversion: 20, aov: 9000 },
    { channel: "app", volume: 300, conversion: 40, aov: 9000 },
    { channel: "partner-a", volume: 100, conversion: 40, aov: 18000 },
  ];

  it("weighs volume 0.5, conversion 0.3 and AOV 0.2 by default", () => {
    const s = channelScores(rows);
    // web: 0.5*0.6 + 0.3*0.2 + 0.2*0.25 = 0.41; app: 0.15+0.12+0.05 = 0.32; partner: 0.05+0.12+0.1 = 0.27
    expect(s.map((x) => Math.round(x * 100))).toEqual([41, 32, 27]);
  });

  it("sums to the sellable stock exactly, whatever the remainders", () => {
    for (const sellable of [0, 1, 7, 95, 100, 1001]) {
      const split = proposeSplit(sellable, rows);
      expect(split.reduce((n, x) => n + x, 0)).toBe(sellable);
      expect(split.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    }
    expect(proposeSplit(100, rows)).toEqual([41, 32, 27]);
  });

  it("splits evenly when no history says anything, and honours other weights", () => {
    const blank = rows.map((r) => ({ ...r, volume: 0, conversion: 0, aov: 0 }));
    expect(proposeSplit(10, blank)).toEqual([4, 3, 3]);
    expect(proposeSplit(100, rows, { volume: 1, conversion: 0, aov: 0 })).toEqual([60, 30, 10]);
  });
});
