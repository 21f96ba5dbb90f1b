import { describe, expect, it } from "vitest";
import {
  controlSchema,
  createActivitySchema,
  minorToYuan,
  orderFilterSchema,
  parseInstant,
  productSchema,
  yuanToMinor,
} from "@/lib/admin/schemas";
import { csvLine } from "@/lib/admin/csv";
import { fieldErrorsOf } from "@/lib/admin/results";
import { slugFrom } from "@/lib/admin/slug";
import { sniffImage } from "@/lib/admin/uploads";
import { combineLatency } from "@/lib/admin/dashboard";
import { sellableUnits } from "@/lib/catalog/stock";

describe("money", () => {
  it("turns yuan into fen exactly and back", () => {
    expect([
      yuanToMinor("0"),
      yuanToMinor("12"),
      yuanToMinor("12.5"),
      yuanToMinor("12.05"),
      yuanToMinor("0.29"),
    ]).toEqual([0, 1200, 1250, 1205, 29]);
    expect([minorToYuan(0), minorToYuan(5), minorToYuan(1250), minorToYuan(199900)]).toEqual([
      "0.00",
      "0.05",
      "12.50",
      "1999.00",
    ]);
    for (const bad of ["-1", "1.234", "1,5", "", "abc", "1e3"]) {
      expect(productSchema.safeParse({ name: "x", listPrice: bad }).success, bad).toBe(false);
    }
    expect(productSchema.parse({ name: " Tea ", listPrice: 19.9 })).toEqual({
      name: "Tea",
      description: "",
      listPrice: 1990,
      imageUrl: null,
    });
  });
});

describe("times", () => {
  it("reads instants with an offset, and bare local times as UTC", () => {
    expect(parseInstant("2030-01-02T03:04:05.000Z")).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(parseInstant("2030-01-02T11:04:05+08:00")).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(parseInstant("2030-01-02T03:04")).toBe(Date.UTC(2030, 0, 2, 3, 4));
    expect(parseInstant("tomorrow")).toBeNull();
    expect(parseInstant("2030-13-45T99:99")).toBeNull();
  });
});

describe("the activity schema", () => {
  const base = {
    title: "Sale",
    productId: "cproduct12345",
    salePrice: "1.00",
    startAt: new Date(Date.now() + 60_000).toISOString(),
    endAt: new Date(Date.now() + 3_600_000).toISOString(),
    totalStock: "5",
    perUserLimit: "1",
    deductionMode: "ORDER",
    paymentWindowMin: "10",
    safetyStockPct: "0",
  };

  it("accepts form strings and turns them into typed values", () => {
    const a = createActivitySchema.parse({ ...base, schedule: "on" });
    expect(a).toMatchObject({ salePrice: 100, totalStock: 5, perUserLimit: 1, schedule: true, safetyStockPct: 0 });
    expect(a.startAt).toBeInstanceOf(Date);
    expect(createActivitySchema.parse(base).schedule).toBe(false);
  });

  it("refuses non-payers unless told not to: the form's hidden false, or an API client's false", () => {
    expect(createActivitySchema.parse(base).refuseNonPayers).toBe(true);
    expect(createActivitySchema.parse({ ...base, refuseNonPayers: "false" }).refuseNonPayers).toBe(false);
    expect(createActivitySchema.parse({ ...base, refuseNonPayers: false }).refuseNonPayers).toBe(false);
    expect(createActivitySchema.parse({ ...base, refuseNonPayers: "true" }).refuseNonPayers).toBe(true);
  });

  it("names each wrong field with its own message", () => {
    const r = createActivitySchema.safeParse({
      ...base,
      endAt: base.startAt,
      totalStock: "-3",
      perUserLimit: "100",
      safetyStockPct: "-1",
    });
    expect(r.success).toBe(false);
    expect(fieldErrorsOf(r.error!)).toEqual({
      endAt: "endAfterStart",
      totalStock: "stockMin",
      perUserLimit: "limitMax",
      safetyStockPct: "safetyRange",
    });
  });

  it("offers the total less the safety share rounded down, so at least one unit", () => {
    expect([sellableUnits(1, 30), sellableUnits(10, 10), sellableUnits(99, 30), sellableUnits(1000, 7)]).toEqual([1, 9, 70, 930]);
  });
});

describe("run-control input", () => {
  it("asks for units only on restock and a time only on extend", () => {
    expect(controlSchema.parse({ activityId: "cactivity1234", action: "pause" })).toEqual({
      activityId: "cactivity1234",
      action: "pause",
    });
    const r = controlSchema.safeParse({ activityId: "cactivity1234", action: "restock", units: "0" });
    expect(fieldErrorsOf(r.error!)).toEqual({ units: "addOneUnit" });
    expect(controlSchema.safeParse({ activityId: "cactivity1234", action: "extend" }).success).toBe(false);
    expect(controlSchema.safeParse({ activityId: "cactivity1234", action: "explode" }).success).toBe(false);
    expect(controlSchema.safeParse({ activityId: "../etc", action: "pause" }).success).toBe(false);
  });
});

describe("order filters", () => {
  it("drop bad values instead of failing the page", () => {
    expect(orderFilterSchema.parse({ status: "NOPE", page: "-2", email: "  ", activityId: "x" })).toEqual({ page: 1 });
    expect(orderFilterSchema.parse({ status: "PAID", page: "3", email: " Shopper1@Flash.test " })).toEqual({
      status: "PAID",
      page: 3,
      email: "shopper1@flash.test",
    });
  });
});

describe("CSV", () => {
  it("quotes what needs quoting and defuses formulas", () => {
    expect(csvLine(["a", 1, 'say "hi"', "x,y", "line\nbreak"])).toBe('a,1,"say ""hi""","x,y","line\nbreak"\r\n');
    expect(csvLine(["=HYPERLINK(1)", "+1", "@me", "-2", "ok"])).toBe("'=HYPERLINK(1),'+1,'@me,'-2,ok\r\n");
    expect(csvLine([-2])).toBe("-2\r\n");
  });
});

describe("uploads", () => {
  it("recognise images by their bytes, not their name", () => {
    expect(sniffImage(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe("png");
    expect(sniffImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe("jpg");
    expect(sniffImage(new TextEncoder().encode("GIF89a...."))).toBe("gif");
    expect(sniffImage(new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 "))).toBe("webp");
    expect(sniffImage(new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/>"))).toBeNull();
  });
});

describe("slugs", () => {
  it("are URL-safe and unique", () => {
    expect(slugFrom("Headphones at 1 yuan!", "sale")).toMatch(/^headphones-at-1-yuan-[a-f0-9]{8}$/);
    expect(slugFrom("秒杀", "sale")).toMatch(/^sale-[a-f0-9]{8}$/);
    expect(slugFrom("a", "x")).not.toBe(slugFrom("a", "x"));
  });
});

describe("p95 latency across web processes", () => {
  it("takes the worst fresh one and ignores stale or malformed entries", () => {
    const now = 100_000;
    const entries = {
      "1": JSON.stringify({ p95: 2.5, n: 100, at: now - 1000 }),
      "2": JSON.stringify({ p95: 4.25, n: 50, at: now - 4000 }),
      "3": JSON.stringify({ p95: 90, n: 10, at: now - 6000 }),
      "4": "not json",
    };
    expect(combineLatency(entries, now)).toEqual({ p95Ms: 4.25, samples: 150, processes: 2 });
    expect(combineLatency({}, now)).toEqual({ p95Ms: null, samples: 0, processes: 0 });
  });
});
