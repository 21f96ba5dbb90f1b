import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENTRY, LUA_HEADER, META, TICKET_FIELDS, decodeEntry, decodeMeta, decodeShopper, encodeRules, encodeTrace, isSoldOut } from "@/lib/flash/store";
import { homeSegment, splitUnits } from "@/lib/flash/store/layout";

const LUA_FILES = [
  "lib/flash/admission.lua",
  "lib/flash/segment.lua",
  "lib/orders/finalize.lua",
  "lib/admin/mirror.lua",
  "lib/admin/restock.lua",
  "lib/admin/reset-unsold.lua",
  "lib/flash/draw-load.lua",
  "lib/flash/waitlist.lua",
];

describe("the Lua header", () => {
  const declared = new Set(
    [...LUA_HEADER.matchAll(/local (?:function )?([A-Za-z_, ]+?)(?: =|\()/g)].flatMap((m) => m[1]!.split(", ")),
  );

  it.each(LUA_FILES)("declares every Redis name %s uses", (file) => {
    const lua = readFileSync(file, "utf8").replace(/--.*$/gm, "");
    const used = new Set(lua.match(/\b(?:M|T|E|S|ST|G)_[A-Z_]+\b|\b(?:FLAG_ON|FLAG_OFF|RESTOCK_VOID|counter_for)\b/g));
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((name) => !declared.has(name))).toEqual([]);
  });

  it("names every meta field, and scripts spell no field name of their own", () => {
    for (const field of Object.values(META)) expect(LUA_HEADER).toContain(`= ${JSON.stringify(field)}`);
    for (const file of LUA_FILES) {
      const lua = readFileSync(file, "utf8").replace(/--.*$/gm, "");
      expect(lua.match(/redis\.call\('H\w+', \w+, '/g) ?? []).toEqual([]);
    }
  });
});

describe("meta, entries", () => {
  it("read back what the rules encode, and count sold out on the counter the mode spends", () => {
    const shown = { status: "LIVE", startMs: 1000, endMs: 2000, limit: 2, mode: "PAYMENT", paused: true } as const;
    const encoded = encodeRules({ ...shown, price: 990, paymentWindowSec: 600 });
    const h = Object.fromEntries(Object.entries(encoded).map(([k, v]) => [k, String(v)]));
    const s = decodeMeta("a1", { ...h, [META.stock]: "5", [META.quota]: "0", [META.epoch]: "3" })!;
    expect(s).toMatchObject({ ...shown, stock: 5, quota: 0, left: 0, preheated: true, epoch: 3 });
    expect(isSoldOut(s)).toBe(true);
    expect(
      isSoldOut(decodeMeta("a1", { ...h, [META.mode]: "ORDER", [META.stock]: "5", [META.quota]: "0", [META.epoch]: "1" })!),
    ).toBe(false);
    expect(decodeMeta("a1", {})).toBeNull();
    // Not marked ready by a rebuild from PostgreSQL (preheat half-way, rebuild under way): no state.
    expect(decodeMeta("a1", { ...h, [META.stock]: "5" })).toBeNull();
  });

  it("decode a stream entry by field name, not position", () => {
    expect(decodeEntry("1-0", [ENTRY.seq, "7", ENTRY.qty, "2", ENTRY.user, "u1", ENTRY.ticket, "a.b"])).toEqual({
      entryId: "1-0",
      ticketId: "a.b",
      userId: "u1",
      quantity: 2,
      sequence: 7,
      idempotencyKey: null,
      channel: null,
    });
    // A sale split into channels: the channel travels with the ticket too (orders.channel).
    expect(decodeEntry("1-0", [ENTRY.ticket, "a.b", ENTRY.channel, "app"]).channel).toBe("app");
    // The idempotency key travels with the ticket into PostgreSQL (durable idempotency).
    expect(decodeEntry("1-0", [ENTRY.ticket, "a.b", ENTRY.idem, "k-123456"]).idempotencyKey).toBe("k-123456");
  });
});

describe("the shopper's record (me.lua's reply), the trace, the sell-out point", () => {
  it("decode units, trace and tickets; a ticket whose hash is gone is left out", () => {
    const ticket = ["u1", "3", "1", "QUEUED", "", "", "", "1500"];
    expect(ticket).toHaveLength(TICKET_FIELDS.length);
    const gone = TICKET_FIELDS.map(() => "");
    const r = decodeShopper(["1", encodeTrace({ atMs: 1200, code: "PAUSED" }), "a.t1", ...ticket, "a.t2", ...gone]);
    expect(r).toEqual({
      held: 1,
      trace: { atMs: 1200, code: "PAUSED" },
      tickets: [{ ticketId: "a.t1", owner: "u1", sequence: 3, quantity: 1, state: "QUEUED", orderId: null, payByMs: null, code: null, atMs: 1500 }],
    });
    expect(decodeShopper(["0", ""])).toEqual({ held: 0, trace: null, tickets: [] });
  });

  it("reads the last unit's ticket and time from meta", () => {
    const h = { [META.status]: "LIVE", [META.stock]: "0", [META.epoch]: "1", [META.lastUnit]: "1000|1610" };
    expect(decodeMeta("a1", h)?.lastUnit).toEqual({ sequence: 1000, atMs: 1610 });
    expect(decodeMeta("a1", { ...h, [META.lastUnit]: "" })?.lastUnit).toBeNull();
  });
});

describe("split stock", () => {
  it("shares a counter out, the first segments taking the remainder", () => {
    expect(splitUnits(10, 4)).toEqual([3, 3, 2, 2]);
    expect(splitUnits(3, 4)).toEqual([1, 1, 1, 0]);
    expect(splitUnits(7, 1)).toEqual([7]);
  });

  it("sends a shopper to one home segment, and shoppers to all of them", () => {
    expect(homeSegment("user-1", 4)).toBe(homeSegment("user-1", 4));
    const homes = new Set(Array.from({ length: 200 }, (_, i) => homeSegment(`u${i}`, 4)));
    expect(homes).toEqual(new Set([0, 1, 2, 3]));
  });

  it("sums the segments into the counter the mode spends", () => {
    const h = { [META.status]: "LIVE", [META.stock]: "2", [META.quota]: "3", [META.epoch]: "1", [META.segments]: "3" };
    expect(decodeMeta("a1", { ...h, [META.mode]: "ORDER" }, [4, 1])).toMatchObject({ stock: 7, quota: 3, left: 7, segments: 3 });
    expect(decodeMeta("a1", { ...h, [META.mode]: "PAYMENT" }, [4, 1])).toMatchObject({ stock: 2, quota: 8, left: 8, segments: 3 });
    expect(decodeMeta("a1", { ...h, [META.segments]: "" })?.segments).toBe(1);
  });
});
