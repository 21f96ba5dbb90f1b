import { afterAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { redis } from "@/lib/redis";
import { runControl } from "@/lib/admin/controls";
import { runWaitlists } from "@/lib/flash/waitlist";
import { joinWaitlistReply, waitlistReply } from "@/lib/flash/fair-entry-http";
import { homeSegment, joinWaitlist, offerFromWaitlist, readOffers, readState, readWaitlist } from "@/lib/flash/store";
import { sweepOnce } from "@/lib/orders/sweeper";
import { createAdmin, expectInvariants, retire } from "../support/admin-fixtures";
import { createActivity, createCores, createUsers, drain, tokenFor, type TestActivity } from "../support/flash";

// The waitlist of a sold-out sale (docs/fair-entry.md): returned units are offered in order, one
// shopper per unit at a time, each unit once; the crowd gets none of them while anyone waits.

const { cores, close } = createCores(3);
afterAll(close);

let n = 0;
const buy = (a: TestActivity, user: string, now?: number) =>
  cores[n % cores.length]!.admit(a.id, user, { quantity: 1, idempotencyKey: `wl-${++n}-abcdefgh`, token: tokenFor(a, user) }, now);
// The sweeper offers with the configured window; the direct calls use the same.
const WINDOW = env().WAITLIST_OFFER_SEC * 1000;

async function soldOutSale(stock: number) {
  const a = await createActivity({ stock, limit: 1, mode: "RESERVE" });
  const buyers = await createUsers(stock);
  const tickets = [];
  for (const u of buyers) {
    const r = await buy(a, u);
    if (!r.ok) throw new Error(r.code);
    tickets.push(r.ticketId);
  }
  await drain(a.id);
  return { a, buyers, tickets };
}

/** Units backed by offers never exceed the units nobody else holds, and nobody has two offers. */
async function expectOffersBacked(a: TestActivity) {
  const s = (await readState(redis(), a.id))!;
  const offers = await readOffers(redis(), a.id);
  expect(offers.size).toBeLessThanOrEqual(Math.max(0, s.left));
}

describe("the waitlist of a sold-out sale", () => {
  it("returned units are offered in line order, never to two shoppers at once, each once; a lapsed offer moves on", async () => {
    const { a, tickets } = await soldOutSale(3);
    const waiters = await createUsers(6);
    const crowd = await createUsers(4);
    // Before sold out there is nothing to wait for; after, the line forms in join order.
    for (const [i, u] of waiters.entries()) expect(await joinWaitlist(redis(), a.id, u, Date.now())).toEqual({ kind: "OK", position: i + 1 });
    expect(await joinWaitlist(redis(), a.id, waiters[0]!, Date.now())).toEqual({ kind: "DUP", position: 1 });

    // Two of the three orders expire unpaid (the sweeper at a time past their pay-by: no waiting).
    const orders = await db().order.findMany({ where: { activityId: a.id }, orderBy: { sequence: "asc" } });
    await db().order.updateMany({ where: { id: { in: orders.slice(0, 2).map((o) => o.id) } }, data: { payBy: new Date(Date.now() - 1000) } });
    const now = Date.now();
    // Five sweeps at once (several workers): the two units make exactly two offers.
    await Promise.all(Array.from({ length: 5 }, () => sweepOnce(db(), redis(), { now: new Date(now) })));
    await Promise.all(Array.from({ length: 5 }, () => offerFromWaitlist(redis(), a.id, now, WINDOW)));
    const offers = await readOffers(redis(), a.id);
    expect([...offers.keys()].sort()).toEqual(waiters.slice(0, 2).sort());
    await expectOffersBacked(a);
    expect(await readWaitlist(redis(), a.id, waiters[2]!)).toMatchObject({ position: 1, offerUntilMs: null, waiting: 4 });

    // The crowd, and those still waiting, get nothing; the offered get their unit.
    const crowdResults = await Promise.all([...crowd, ...waiters.slice(2)].map((u) => buy(a, u, now)));
    expect(crowdResults.every((r) => !r.ok && r.code === "SOLD_OUT")).toBe(true);
    const first = await buy(a, waiters[0]!, now);
    expect(first).toMatchObject({ ok: true });
    await expectOffersBacked(a);

    // The second offer lapses: its unit goes to the next in line, once.
    const later = now + WINDOW + 1;
    expect(await buy(a, waiters[1]!, later)).toEqual({ ok: false, code: "SOLD_OUT" });
    const moved = await offerFromWaitlist(redis(), a.id, later, WINDOW);
    expect(moved).toEqual({ offered: [waiters[2]], lapsed: [waiters[1]] });
    expect(await offerFromWaitlist(redis(), a.id, later, WINDOW)).toEqual({ offered: [], lapsed: [] });
    const third = await buy(a, waiters[2]!, later);
    expect(third).toMatchObject({ ok: true });
    expect(await buy(a, waiters[3]!, later)).toEqual({ ok: false, code: "SOLD_OUT" });

    await drain(a.id);
    const state = (await readState(redis(), a.id))!;
    expect(state).toMatchObject({ stock: 0, waitlistHold: 3 }); // waiters 4, 5, 6 still in line
    await expectInvariants(a.id, 3, [...tickets, ...[first, third].flatMap((r) => (r.ok ? [r.ticketId] : []))]);
    await retire(a.id);
  });

  it("a restock goes to the waitlist first; what is left after the line is the crowd's", async () => {
    const admin = await createAdmin();
    const { a, tickets } = await soldOutSale(1);
    const waiters = await createUsers(2);
    const [walkIn] = await createUsers(1);
    for (const u of waiters) await joinWaitlist(redis(), a.id, u, Date.now());
    expect(await runControl({ activityId: a.id, action: "restock", units: 5 }, admin.id)).toMatchObject({ ok: true });
    // Until the offers are made, the five units are held for the two in line: the crowd waits too.
    cores.forEach((c) => c.states.invalidate(a.id));
    expect(await buy(a, walkIn!)).toEqual({ ok: false, code: "SOLD_OUT" });
    expect(await runWaitlists(db(), redis())).toMatchObject({ offered: 2 });
    const r = await buy(a, walkIn!);
    expect(r).toMatchObject({ ok: true });
    const offered = await Promise.all(waiters.map((u) => buy(a, u)));
    expect(offered.every((x) => x.ok)).toBe(true);
    await drain(a.id);
    await expectInvariants(a.id, 6, [...tickets, ...[r, ...offered].flatMap((x) => (x.ok ? [x.ticketId] : []))]);
    await retire(a.id);
  });

  it("a split stock: the line forms once every segment is empty; a returned unit (segment 0) goes to it, not to the crowd", async () => {
    const a = await createActivity({ stock: 4, limit: 1, mode: "RESERVE", segments: 2 });
    const users = await createUsers(16);
    const homeZero = users.filter((u) => homeSegment(u, 2) === 0);
    const homeOne = users.filter((u) => homeSegment(u, 2) === 1);
    expect(homeZero.length).toBeGreaterThanOrEqual(3);
    expect(homeOne.length).toBeGreaterThanOrEqual(4);
    // Segment 0 (meta's counter, where the waitlist looks) runs empty first; segment 1 still sells.
    const tickets = [];
    for (const u of homeZero.slice(0, 2)) {
      const r = await buy(a, u);
      if (!r.ok) throw new Error(r.code);
      tickets.push(r.ticketId);
    }
    const [waiter, crowd0] = homeZero.slice(2);
    expect(await joinWaitlist(redis(), a.id, waiter!, Date.now())).toEqual({ kind: "NO", code: "NOT_SOLD_OUT" });
    for (const u of homeOne.slice(0, 2)) {
      const r = await buy(a, u);
      if (!r.ok) throw new Error(r.code);
      tickets.push(r.ticketId);
    }
    await drain(a.id);
    expect(await joinWaitlist(redis(), a.id, waiter!, Date.now())).toEqual({ kind: "OK", position: 1 });

    // One order expires: its unit comes back to segment 0 and is offered to the line.
    const [expired] = await db().order.findMany({ where: { activityId: a.id }, orderBy: { sequence: "asc" }, take: 1 });
    await db().order.update({ where: { id: expired!.id }, data: { payBy: new Date(Date.now() - 1000) } });
    const now = Date.now();
    await sweepOnce(db(), redis(), { now: new Date(now) });
    await offerFromWaitlist(redis(), a.id, now, WINDOW);
    expect([...(await readOffers(redis(), a.id)).keys()]).toEqual([waiter]);
    // The crowd gets nothing, whichever segment it tries first (the commit's try of segment 0 honours the hold).
    for (const u of [crowd0!, homeOne[2]!]) expect(await buy(a, u, now)).toEqual({ ok: false, code: "SOLD_OUT" });
    const offered = await buy(a, waiter!, now);
    expect(offered).toMatchObject({ ok: true });
    expect(await readOffers(redis(), a.id)).toEqual(new Map());
    await drain(a.id);
    expect(await readState(redis(), a.id)).toMatchObject({ left: 0, waitlistHold: 0 });
    await expectInvariants(a.id, 4, [...tickets, ...(offered.ok ? [offered.ticketId] : [])]);
    await retire(a.id);
  });

  it("joining is only for a sold-out, running sale, within the limit", async () => {
    const a = await createActivity({ stock: 2, limit: 1 });
    const [u, v] = await createUsers(2);
    expect(await joinWaitlist(redis(), a.id, u!, Date.now())).toEqual({ kind: "NO", code: "NOT_SOLD_OUT" });
    const early = await createActivity({ stock: 1, startInMs: 60_000 });
    expect(await joinWaitlist(redis(), early.id, u!, Date.now())).toEqual({ kind: "NO", code: "NOT_STARTED" });
    await buy(a, u!);
    await buy(a, v!);
    expect(await joinWaitlist(redis(), a.id, u!, Date.now())).toEqual({ kind: "NO", code: "LIMIT_REACHED" });
    expect(await joinWaitlist(redis(), "nosuchsale0000", u!, Date.now())).toEqual({ kind: "NO", code: "UNAVAILABLE" });
    // Over HTTP: a sale that does not exist is 404, not a retry; a refused join changes nothing.
    const me = { userId: v!, role: "SHOPPER" as const };
    expect(await joinWaitlistReply(me, "nosuchsale0000")).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    expect(await joinWaitlistReply(null, a.id)).toMatchObject({ status: 401, body: { code: "UNAUTHENTICATED" } });
    expect(await joinWaitlistReply(me, a.id)).toMatchObject({ status: 409, body: { code: "LIMIT_REACHED" } });
    expect(await waitlistReply(me, a.id)).toMatchObject({ status: 200, body: { position: null, offerUntil: null, waiting: 0 } });
    await drain(a.id);
    for (const id of [a.id, early.id]) await retire(id);
  });
});
