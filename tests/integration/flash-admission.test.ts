import { afterAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { readState } from "@/lib/flash/store";
import { checkInvariants } from "@/lib/flash/invariants";
import { createActivity, createCores, createUsers, drain, snapshot, tokenFor } from "../support/flash";

const { cores, close } = createCores(4);
afterAll(close);

const key = (i: number) => `idem-${i.toString().padStart(8, "0")}`;

// The same tests with the stock counter whole (one Lua call per admission) and split into 4
// segments (docs/architecture.md, "Split stock"), each under its own hash tag.
describe.each([1, 4])("admission under concurrency (I1–I3), stock in %i segment(s)", (segments) => {
  it("5,000 concurrent buys by 2,000 users for 100 units, limit 1: exactly 100 orders", async () => {
    const a = await createActivity({ stock: 100, limit: 1, segments });
    const users = await createUsers(2000);
    const requests = Array.from({ length: 5000 }, (_, i) => {
      const user = users[i % users.length]!;
      return cores[i % cores.length]!.admit(a.id, user, { quantity: 1, idempotencyKey: key(i), token: tokenFor(a, user) });
    });
    const results = await Promise.all(requests);

    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(100);
    const refused = results.filter((r) => !r.ok);
    // Every refusal carries a reason from the fixed list.
    expect(new Set(refused.map((r) => (r.ok ? "" : r.code)))).toEqual(new Set(["SOLD_OUT", "LIMIT_REACHED"]));

    await drain(a.id, 2);
    const s = await snapshot(a.id);
    expect(s.orders).toHaveLength(100);
    expect(s.orders.reduce((n, o) => n + o.quantity, 0)).toBe(100);
    expect(new Set(s.orders.map((o) => o.userId)).size).toBe(100); // no user with two
    expect(s.state?.stock).toBe(0);
    expect(s.activity.stock).toBe(0);
    expect([...s.tickets.values()].every((t) => t.state === "CONFIRMED")).toBe(true); // every ticket final
    expect(new Set(s.orders.map((o) => o.ticketId))).toEqual(new Set(admitted.map((r) => (r.ok ? r.ticketId : ""))));
    // Admission order is kept: sequence numbers are 1..100 without gaps.
    expect(s.orders.map((o) => o.sequence).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(checkInvariants(s, { offered: 100 }).filter((c) => !c.ok)).toEqual([]);
    expect(s.state?.soldOutAt).not.toBeNull(); // every segment empty: the sale knows it is sold out
  });

  it("limit 3 with quantities 1–3: no user above 3 units, total units = stock", async () => {
    const a = await createActivity({ stock: 200, limit: 3, segments });
    const users = await createUsers(150);
    const results = await Promise.all(
      Array.from({ length: 1200 }, (_, i) => {
        const user = users[i % users.length]!;
        return cores[i % cores.length]!.admit(a.id, user, {
          quantity: (i % 3) + 1,
          idempotencyKey: key(i),
          token: tokenFor(a, user),
        });
      }),
    );
    expect(results.some((r) => !r.ok && r.code === "LIMIT_REACHED")).toBe(true);
    await drain(a.id, 2);
    const s = await snapshot(a.id);
    const perUser = new Map<string, number>();
    for (const o of s.orders) perUser.set(o.userId, (perUser.get(o.userId) ?? 0) + o.quantity);
    expect(Math.max(...perUser.values())).toBeLessThanOrEqual(3);
    for (const b of s.buyers) expect(b.units).toBe(perUser.get(b.userId));
    expect(s.orders.reduce((n, o) => n + o.quantity, 0) + (s.state?.stock ?? NaN)).toBe(200);
    expect(s.activity.stock).toBe(s.state?.stock);
    expect(s.state?.stock ?? NaN).toBeGreaterThanOrEqual(0);
    expect(checkInvariants(s, { offered: 200 }).filter((c) => !c.ok)).toEqual([]);
  });

  it("the same idempotency key sent 50 times concurrently: one ticket, one order", async () => {
    const a = await createActivity({ stock: 10, limit: 1, segments });
    const [user] = await createUsers(1);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        cores[i % cores.length]!.admit(a.id, user!, { quantity: 1, idempotencyKey: "same-key-123", token: tokenFor(a, user!) }),
      ),
    );
    const tickets = new Set(results.map((r) => (r.ok ? r.ticketId : r.code)));
    expect(tickets.size).toBe(1);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.filter((r) => r.ok && !r.duplicate)).toHaveLength(1);
    await drain(a.id, 1);
    const s = await snapshot(a.id);
    expect(s.orders).toHaveLength(1);
    expect(s.entries).toHaveLength(1);
    expect(s.state?.stock).toBe(9);
    // A retry after the order exists still gets the first answer.
    const again = await cores[0]!.admit(a.id, user!, { quantity: 1, idempotencyKey: "same-key-123", token: tokenFor(a, user!) });
    expect(again).toMatchObject({ ok: true, duplicate: true, ticketId: [...tickets][0] });
  });

  it("buys before the start or with a wrong token are refused and change nothing", async () => {
    const a = await createActivity({ stock: 10, limit: 1, startInMs: 60_000, segments });
    const users = await createUsers(3);
    const before = await snapshot(a.id);
    const early = await cores[0]!.admit(a.id, users[0]!, { quantity: 1, idempotencyKey: key(1), token: tokenFor(a, users[0]!) });
    expect(early).toEqual({ ok: false, code: "NOT_STARTED" });
    expect(await cores[0]!.issueToken(a.id, users[0]!)).toMatchObject({ ok: false, code: "NOT_STARTED" });

    const live = await createActivity({ stock: 10, limit: 1, segments });
    const liveBefore = await snapshot(live.id);
    const forged = "A".repeat(43);
    const wrongUser = tokenFor(live, users[2]!); // another shopper's token
    for (const token of [forged, wrongUser, tokenFor(a, users[1]!)]) {
      const r = await cores[1]!.admit(live.id, users[1]!, { quantity: 1, idempotencyKey: key(2), token });
      expect(r).toEqual({ ok: false, code: "BAD_TOKEN" });
    }
    const after = await snapshot(a.id);
    const liveAfter = await snapshot(live.id);
    for (const [b, x] of [[before, after], [liveBefore, liveAfter]] as const) {
      expect(x.state?.stock).toBe(b.state?.stock);
      expect(x.entries).toHaveLength(0);
      expect(x.units).toEqual(new Map());
      expect(x.orders).toHaveLength(0);
    }
  });

  it("a ticket reveals nothing to anyone but its owner (I5)", async () => {
    const a = await createActivity({ stock: 5, limit: 1, segments });
    const [owner, other] = await createUsers(2);
    const r = await cores[0]!.admit(a.id, owner!, { quantity: 1, idempotencyKey: key(9), token: tokenFor(a, owner!) });
    if (!r.ok) throw new Error(r.code);
    expect(await cores[0]!.ticket(r.ticketId, other!)).toBeNull();
    expect(await cores[0]!.ticket(`${a.id}.AAAAAAAAAAAAAAAAAAAAAA`, owner!)).toBeNull();
    expect(await cores[0]!.ticket(r.ticketId, owner!)).toMatchObject({ status: "QUEUED", sequence: 1, ahead: 0 });
    await drain(a.id, 1);
    expect(await cores[0]!.ticket(r.ticketId, owner!)).toMatchObject({ status: "CONFIRMED", sequence: 1 });
    const order = await db().order.findUniqueOrThrow({ where: { ticketId: r.ticketId } });
    expect(await cores[0]!.ticket(r.ticketId, owner!)).toMatchObject({ orderId: order.id });
  });

  it("preheat is idempotent: a second preheat adds no stock", async () => {
    const a = await createActivity({ stock: 7, limit: 1, segments });
    const [user] = await createUsers(1);
    await cores[0]!.admit(a.id, user!, { quantity: 1, idempotencyKey: key(3), token: tokenFor(a, user!) });
    const { preheatActivity } = await import("@/lib/flash/preheat");
    await preheatActivity(db(), redis(), a.id);
    expect((await readState(redis(), a.id))?.stock).toBe(6);
  });
});
