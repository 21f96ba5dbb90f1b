import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { FlashCore } from "@/lib/flash/core";
import { orderOfTicket, shopperArchive } from "@/lib/flash/instance";
import { activityKeys, forgetActivity } from "@/lib/flash/store";
import { redis } from "@/lib/redis";
import { TOKEN_SECRET, createActivity, createUsers, drain, tokenFor, type TestActivity } from "../support/flash";
import { request, sessionCookie, startWeb, type TestWeb } from "../support/web";

const conn = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
// A fresh state read for every call, so the process-local view always matches Redis.
const core = new FlashCore(conn, TOKEN_SECRET, { stateTtlMs: 1, orderOf: orderOfTicket, archiveOf: shopperArchive });
let web: TestWeb | undefined;
afterAll(async () => {
  await web?.close();
  conn.disconnect();
});

let n = 0;
const buy = (c: FlashCore, a: TestActivity, user: string, quantity = 1) =>
  c.admit(a.id, user, { quantity, idempotencyKey: `me-${++n}-abcdef`, token: tokenFor(a, user) });

describe("GET /api/activities/{id}/me: the shopper's state from the server", () => {
  it("restores queue position, then the order; shows only the caller's own tickets; answers from PostgreSQL once the keys are gone", async () => {
    const a = await createActivity({ stock: 3, limit: 2 });
    const [early, winner, other] = await createUsers(3);

    expect(await buy(core, a, early!)).toMatchObject({ ok: true, sequence: 1 });
    const t = await buy(core, a, winner!);
    if (!t.ok) throw new Error(t.code);

    // Queued: the same answer on every ask (a reload, a second tab), with the people ahead.
    for (let i = 0; i < 2; i++) {
      const me = await core.me(a.id, winner!);
      expect(me).toMatchObject({ held: 1, source: "live", trace: { outcome: "ADMITTED", sequence: 2 } });
      expect(me?.tickets).toEqual([{ ticketId: t.ticketId, quantity: 1, status: "QUEUED", sequence: 2, ahead: 1 }]);
    }
    // Another shopper sees nothing of theirs (I5).
    expect(await core.me(a.id, other!)).toMatchObject({ held: 0, tickets: [], trace: null });

    await drain(a.id);
    const won = await core.me(a.id, winner!);
    expect(won?.tickets).toHaveLength(1);
    expect(won?.tickets[0]).toMatchObject({ status: "CONFIRMED", ticketId: t.ticketId, sequence: 2, orderId: expect.any(String) });
    expect(Date.parse((won?.tickets[0] as { payBy: string }).payBy)).toBeGreaterThan(Date.now());

    // A second unit (limit 2): both tickets listed, in admission order.
    const second = await buy(core, a, winner!);
    if (!second.ok) throw new Error(second.code);
    expect((await core.me(a.id, winner!))?.tickets.map((x) => x.ticketId)).toEqual([t.ticketId, second.ticketId]);
    expect((await core.me(a.id, winner!))?.held).toBe(2);
    await drain(a.id);

    // The sale's keys expired: the orders still answer, from PostgreSQL.
    await forgetActivity(redis(), a.id);
    core.states.invalidate(a.id);
    const archived = await core.me(a.id, winner!);
    expect(archived).toMatchObject({ source: "archive", held: 2, trace: null });
    expect(archived?.tickets.map((x) => [x.ticketId, x.status])).toEqual([
      [t.ticketId, "CONFIRMED"],
      [second.ticketId, "CONFIRMED"],
    ]);
    expect(await core.me("cnosuchsale000000", winner!)).toBeNull();
  });

  it("why didn't I get one: the sell-out point and each shopper's first decided attempt, from admission and from a web process", async () => {
    const a = await createActivity({ stock: 2, limit: 1 });
    const [first, last, lateAtRedis, lateInProcess] = await createUsers(4);
    // A process whose cached view still shows stock: its buyer is refused by admission.lua itself.
    const stale = new FlashCore(conn, TOKEN_SECRET, { stateTtlMs: 60_000 });
    await stale.states.get(a.id);

    expect(await buy(core, a, first!)).toMatchObject({ ok: true, sequence: 1 });
    expect(await buy(core, a, last!)).toMatchObject({ ok: true, sequence: 2 });
    // Clicked again after being admitted: the first decided attempt stays.
    expect(await buy(core, a, last!)).toMatchObject({ ok: false, code: "LIMIT_REACHED" });
    expect(await buy(stale, a, lateAtRedis!)).toMatchObject({ ok: false, code: "SOLD_OUT" });
    // This process knows it is sold out (its view read after the last unit went, as a refresh or the
    // sold-out event gives it): refused without Redis, noted at the next flush.
    core.states.invalidate(a.id);
    expect((await core.states.get(a.id))?.stock).toBe(0);
    expect(await buy(core, a, lateInProcess!)).toMatchObject({ ok: false, code: "SOLD_OUT" });
    expect((await core.me(a.id, lateInProcess!))?.trace).toBeNull();
    await core.flushMetrics();

    const startAt = new Date(a.startMs).toISOString();
    const lastUnit = (await core.me(a.id, last!))?.trace?.lastUnit;
    expect(lastUnit).toMatchObject({ sequence: 2 });
    expect((await core.me(a.id, last!))?.trace).toMatchObject({ startAt, outcome: "ADMITTED", sequence: 2 });
    for (const user of [lateAtRedis!, lateInProcess!]) {
      const trace = (await core.me(a.id, user))?.trace;
      expect(trace).toMatchObject({ startAt, outcome: "SOLD_OUT", sequence: null, lastUnit });
      expect(Date.parse(trace!.at)).toBeGreaterThanOrEqual(Date.parse(lastUnit!.at));
    }
  });

  it("a click before the start is not kept; the trace stays one field per shopper however often they click", async () => {
    const future = await createActivity({ stock: 1, startInMs: 3600_000 });
    const [u] = await createUsers(1);
    for (let i = 0; i < 3; i++) expect(await buy(core, future, u!)).toMatchObject({ ok: false, code: "NOT_STARTED" });
    await core.flushMetrics();
    expect(await conn.hlen(activityKeys(future.id).trace)).toBe(0);

    const a = await createActivity({ stock: 1, limit: 1 });
    const users = await createUsers(5);
    for (let round = 0; round < 3; round++) for (const user of users) await buy(core, a, user);
    await core.flushMetrics();
    expect(await conn.hlen(activityKeys(a.id).trace)).toBe(5);
  });

  it("over HTTP on the hot server: private, signed-in only, the caller's own state", async () => {
    web = await startWeb();
    const a = await createActivity({ stock: 2, limit: 1 });
    const [buyer, stranger] = await createUsers(2);
    const t = await buy(web.core, a, buyer!);
    if (!t.ok) throw new Error(t.code);

    expect((await request(web.url, "GET", `/api/activities/${a.id}/me`)).status).toBe(401);
    const mine = await request(web.url, "GET", `/api/activities/${a.id}/me`, { headers: { cookie: await sessionCookie(buyer!) } });
    expect(mine.status).toBe(200);
    expect(mine.headers["cache-control"]).toBe("private, no-store");
    expect(mine.json()).toMatchObject({ activityId: a.id, held: 1, tickets: [{ ticketId: t.ticketId, sequence: 1 }] });
    const theirs = await request(web.url, "GET", `/api/activities/${a.id}/me`, { headers: { cookie: await sessionCookie(stranger!) } });
    expect(theirs.json()).toMatchObject({ held: 0, tickets: [] });
    const bad = await request(web.url, "GET", `/api/activities/NOT..VALID/me`, { headers: { cookie: await sessionCookie(buyer!) } });
    expect(bad.status).toBe(404);
    expect(web.nextCalls).toEqual([]);
  });
});
