import { describe, expect, it } from "vitest";
import { saleLabel } from "@/lib/flash/sale-label";

const base = { startMs: 1_000, endMs: 2_000 };

describe("saleLabel", () => {
  it("reads the clock, not the stored status, for the start and the end", () => {
    expect(saleLabel({ ...base, status: "SCHEDULED", now: 999 })).toBe("Upcoming");
    expect(saleLabel({ ...base, status: "SCHEDULED", now: 1_000 })).toBe("Live");
    expect(saleLabel({ ...base, status: "LIVE", now: 2_000 })).toBe("Ended");
  });
  it("puts sold out over live and paused, and closed sales over everything", () => {
    expect(saleLabel({ ...base, status: "LIVE", now: 1_500, soldOut: true, paused: true })).toBe("Sold out");
    expect(saleLabel({ ...base, status: "LIVE", now: 1_500, paused: true })).toBe("Paused");
    expect(saleLabel({ ...base, status: "CANCELLED", now: 500, soldOut: true })).toBe("Cancelled");
    expect(saleLabel({ ...base, status: "ENDED", now: 1_500 })).toBe("Ended");
  });
});
