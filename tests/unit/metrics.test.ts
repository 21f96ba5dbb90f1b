import { describe, expect, it } from "vitest";
import { countRefusal, metricsRegistry } from "@/lib/ops/metrics";

const line = async (code: string) =>
  (await metricsRegistry.getSingleMetricAsString("flash_refusals_total")).split("\n").find((l) => l.startsWith(`flash_refusals_total{code="${code}"}`));

describe("refusal counts in /metrics", () => {
  it("are tallied per code and taken into the counter at each scrape, once", async () => {
    for (let i = 0; i < 3; i++) countRefusal("SOLD_OUT");
    countRefusal("LIMIT_REACHED");
    expect(await line("SOLD_OUT")).toBe('flash_refusals_total{code="SOLD_OUT"} 3');
    expect(await line("LIMIT_REACHED")).toBe('flash_refusals_total{code="LIMIT_REACHED"} 1');
    // A second scrape adds nothing already counted; new refusals add to the total.
    expect(await line("SOLD_OUT")).toBe('flash_refusals_total{code="SOLD_OUT"} 3');
    countRefusal("SOLD_OUT");
    countRefusal("SOLD_OUT");
    const text = await metricsRegistry.metrics();
    expect(text).toContain('flash_refusals_total{code="SOLD_OUT"} 5');
    expect(text).toContain('flash_refusals_total{code="LIMIT_REACHED"} 1');
  });
});
