import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { runControl } from "@/lib/admin/controls";
import { ensureDraw, joinPrequeue, publishedDraw, runDraw } from "@/lib/flash/fair-entry";
import { drawReply, joinReply, prequeueReply } from "@/lib/flash/fair-entry-http";
import { drawOrder, verifyDraw } from "@/lib/flash/draw-proof";
import { rebuildSaleState } from "@/lib/flash/preheat";
import { forgetActivity, mirrorRules, readState } from "@/lib/flash/store";
import { createAdmin, expectInvariants, retire } from "../support/admin-fixtures";
import { createActivity, createCores, createUsers, drain, snapshot, tokenFor, type TestActivity } from "../support/flash";

// Fair entry (docs/fair-entry.md): the pre-queue, the committed draw, and admission in drawn order.

const { cores, close } = createCores(3);
afterAll(close);

let n = 0;
const buy = (a: TestActivity, user: string, now?: number, core = cores[n % cores.length]!) =>
  core.admit(a.id, user, { quantity: 1, idempotencyKey: `fair-${++n}-abcdefgh`, token: tokenFor(a, user) }, now);

/** A scheduled sale with a pre-queue window open now (start in a minute, window of 10). */
async function saleWithPrequeue(stock: number, limit = 1) {
  return createActivity({ stock, limit, startInMs: 60_000, prequeueMinutes: 10 });
}

/** What the start-early control does, without the draw it makes right after (the scheduler's job here). */
async function startWithoutDraw(a: TestActivity): Promise<TestActivity> {
  const now = new Date();
  await db().activity.update({ where: { id: a.id }, data: { status: "LIVE", startAt: now } });
  await mirrorRules(redis(), a.id, { status: "LIVE", startMs: now.getTime() });
  cores.forEach((c) => c.states.invalidate(a.id));
  return { ...a, startMs: now.getTime() };
}

async function joinAll(a: TestActivity, users: string[]) {
  const entries = new Map<string, string>();
  for (const u of users) {
    const r = await joinPrequeue(db(), a.id, u);
    if (!r.ok) throw new Error(r.code);
    entries.set(r.entry.entryId, u);
  }
  return entries;
}

describe("fair entry: a verifiable draw at the start", () => {
  it("with stock S, exactly the first S of the draw get units whatever order they click in; the draw recomputes from the revealed seed", async () => {
    const S = 5;
    let a = await saleWithPrequeue(S);
    const users = await createUsers(30);
    const prequeued = users.slice(0, 20);
    const late = users.slice(20);
    const entries = await joinAll(a, prequeued);
    // Joining twice gives the same entry; the seed stays secret before the start.
    const again = await joinPrequeue(db(), a.id, prequeued[0]!);
    expect(again).toMatchObject({ ok: true, created: false });
    const before = await publishedDraw(db(), a.id);
    expect(before).toMatchObject({ seed: null, drawnAt: null, entries: [], entryCount: 20 });
    expect(before?.commitment).toMatch(/^[0-9a-f]{64}$/);

    expect(await buy(a, late[0]!)).toEqual({ ok: false, code: "NOT_STARTED" });
    a = await startWithoutDraw(a);
    // Started, but not drawn yet: admission waits (503, retry) and writes nothing.
    expect(await buy(a, late[0]!)).toEqual({ ok: false, code: "UNAVAILABLE" });
    expect((await snapshot(a.id)).entries).toHaveLength(0);
    expect(await joinPrequeue(db(), a.id, late[1]!)).toEqual({ ok: false, code: "PREQUEUE_CLOSED" });

    const outcome = await runDraw(db(), redis(), a.id);
    expect(outcome).toMatchObject({ drawn: true, loaded: "OK", entries: S, reserved: S });
    // A second run (another worker, the next scheduler pass) changes nothing.
    expect(await runDraw(db(), redis(), a.id)).toMatchObject({ drawn: false, loaded: "DONE" });

    const published = await publishedDraw(db(), a.id);
    expect(published?.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(published?.commitment).toBe(before?.commitment);
    expect(await verifyDraw(published!)).toEqual({ problems: [], mismatched: [] });
    // Recomputed independently: the published positions are the seed's order.
    const { order } = await drawOrder(published!.seed!, [...entries.keys()]);
    expect(published!.entries.map((e) => e.entryId)).toEqual(order);
    // A forged seed or a reordered list is caught.
    expect((await verifyDraw({ ...published!, seed: "0".repeat(64) })).problems).toContain("COMMITMENT");
    const swapped = published!.entries.map((e, i) => ({ ...e, position: i === 0 ? 2 : i === 1 ? 1 : e.position }));
    expect((await verifyDraw({ ...published!, entries: swapped })).problems).toContain("POSITIONS");

    const drawnUsers = order.map((id) => entries.get(id)!);
    // Everyone clicks at once, the drawn last first and the late arrivals before all of them.
    const clickers = [...late, ...[...drawnUsers].reverse()];
    const results = await Promise.all(clickers.map((u) => buy(a, u)));
    const won = clickers.filter((_, i) => results[i]!.ok);
    expect(new Set(won)).toEqual(new Set(drawnUsers.slice(0, S)));
    for (const [i, u] of clickers.entries()) {
      const r = results[i]!;
      if (r.ok) expect(r.sequence).toBe(drawnUsers.indexOf(u) + 1); // the drawn sequence number
      else expect(r.code).toBe("SOLD_OUT");
    }

    await drain(a.id);
    const s = await snapshot(a.id);
    // The admitted order is the draw: order #k is the k-th drawn entry.
    expect(s.orders.map((o) => [o.sequence, o.userId]).sort((x, y) => Number(x[0]) - Number(y[0]))).toEqual(
      drawnUsers.slice(0, S).map((u, i) => [i + 1, u]),
    );
    await expectInvariants(a.id, S, results.flatMap((r) => (r.ok ? [r.ticketId] : [])));
    await retire(a.id);
  });

  it("late arrivals buy first come first served from the units beyond the drawn ones; the drawn keep theirs while the hold lasts", async () => {
    let a = await saleWithPrequeue(10);
    const users = await createUsers(14);
    const entries = await joinAll(a, users.slice(0, 4));
    a = await startWithoutDraw(a);
    await runDraw(db(), redis(), a.id);
    const order = (await publishedDraw(db(), a.id))!.entries.map((e) => entries.get(e.entryId)!);

    // Ten late arrivals, one after another: the first six get the six free units, in arrival order, numbered after the draw.
    const lateResults = [];
    for (const u of users.slice(4)) lateResults.push(await buy(a, u));
    expect(lateResults.map((r) => (r.ok ? r.sequence : r.code))).toEqual([5, 6, 7, 8, 9, 10, "SOLD_OUT", "SOLD_OUT", "SOLD_OUT", "SOLD_OUT"]);
    // The drawn come later and still get theirs, each with the number of their place.
    const drawnResults = await Promise.all(order.map((u) => buy(a, u)));
    expect(drawnResults.map((r) => (r.ok ? r.sequence : r.code))).toEqual([1, 2, 3, 4]);
    await drain(a.id);
    await expectInvariants(a.id, 10, [...lateResults, ...drawnResults].flatMap((r) => (r.ok ? [r.ticketId] : [])));
    await retire(a.id);
  });

  it("units of drawn shoppers who do not buy in the hold go first come first served; their numbers count as no ticket", async () => {
    const admin = await createAdmin();
    const a0 = await saleWithPrequeue(3);
    const users = await createUsers(5);
    const entries = await joinAll(a0, users.slice(0, 3));
    // The admin's start-early control makes the draw at once.
    expect(await runControl({ activityId: a0.id, action: "start" }, admin.id)).toMatchObject({ ok: true });
    const state = await readState(redis(), a0.id);
    expect(state).toMatchObject({ drawHeld: 3, admitted: 0, stock: 3 });
    const a = { ...a0, startMs: state!.startMs };
    cores.forEach((c) => c.states.invalidate(a.id));
    const order = (await publishedDraw(db(), a.id))!.entries.map((e) => entries.get(e.entryId)!);

    const first = await buy(a, order[0]!);
    expect(first).toMatchObject({ ok: true, sequence: 1 });
    const late = users.slice(3);
    // Within the hold, the two units of the others are theirs.
    expect(await buy(a, late[0]!)).toEqual({ ok: false, code: "SOLD_OUT" });
    // Past it (a controlled clock, not a wait), they are anyone's, numbered after the draw.
    const after = state!.drawUntilMs! + 1;
    const r1 = await buy(a, late[0]!, after);
    const r2 = await buy(a, late[1]!, after);
    expect([r1, r2].map((r) => (r.ok ? r.sequence : r.code))).toEqual([4, 5]);
    expect(await buy(a, order[1]!, after)).toEqual({ ok: false, code: "SOLD_OUT" });

    await drain(a.id);
    const s = await snapshot(a.id);
    // Seq 5 handed out, two drawn numbers never used: three tickets admitted, all answered.
    expect(s.state).toMatchObject({ admitted: 3, served: 3 });
    await expectInvariants(a.id, 3, [first, r1, r2].flatMap((r) => (r.ok ? [r.ticketId] : [])));
    await retire(a.id);
  });

  it("a rebuild of the sale's Redis state from PostgreSQL keeps the draw: held units, drawn numbers, and numbers after them", async () => {
    let a = await saleWithPrequeue(4);
    const users = await createUsers(5);
    const entries = await joinAll(a, users.slice(0, 3));
    a = await startWithoutDraw(a);
    await runDraw(db(), redis(), a.id);
    const order = (await publishedDraw(db(), a.id))!.entries.map((e) => entries.get(e.entryId)!);
    const first = await buy(a, order[0]!);
    await drain(a.id);

    // Redis loses the sale; the rebuild restores it from PostgreSQL.
    await forgetActivity(redis(), a.id);
    expect(await rebuildSaleState(db(), redis(), a.id)).toMatchObject({ reason: "NOT_READY" });
    cores.forEach((c) => c.states.invalidate(a.id));
    expect(await readState(redis(), a.id)).toMatchObject({ drawHeld: 2, admitted: 1, served: 1, stock: 3 });

    const late = await buy(a, users[3]!);
    const second = await buy(a, order[1]!);
    const third = await buy(a, order[2]!);
    expect([late, second, third].map((r) => (r.ok ? r.sequence : r.code))).toEqual([4, 2, 3]);
    expect(await buy(a, users[4]!)).toEqual({ ok: false, code: "SOLD_OUT" });
    await drain(a.id);
    // (The stream Redis lost held the first ticket, so the stream-based checks of I2 cannot apply here.)
    const s = await snapshot(a.id);
    expect(s.orders.map((o) => [o.sequence, o.userId]).sort((x, y) => Number(x[0]) - Number(y[0]))).toEqual([
      [1, order[0]],
      [2, order[1]],
      [3, order[2]],
      [4, users[3]],
    ]);
    expect(first.ok && s.orders.some((o) => o.ticketId === first.ticketId)).toBe(true);
    expect([s.activity.stock, s.state?.stock, s.state?.admitted, s.state?.served]).toEqual([0, 0, 4, 4]);
    await retire(a.id);
  });

  it("a 10,000-entry pre-queue: one draw, 100 units held in drawn order, and it verifies", async () => {
    let a = await saleWithPrequeue(100);
    const users = await createUsers(10_000);
    // Arranged in bulk (10,000 joins one by one would only test the join again).
    // Pseudonyms are unique across sales: the run's own prefix keeps a second pass (the cluster run) apart.
    const prefix = randomBytes(4).toString("hex");
    const rows = users.map((userId, i) => ({ activityId: a.id, userId, entryId: `${prefix}${String(i).padStart(8, "0")}` }));
    await ensureDraw(db(), a.id);
    for (let i = 0; i < rows.length; i += 5000) await db().drawEntry.createMany({ data: rows.slice(i, i + 5000) });
    a = await startWithoutDraw(a);
    const started = performance.now();
    expect(await runDraw(db(), redis(), a.id)).toMatchObject({ drawn: true, loaded: "OK", entries: 100, reserved: 100 });
    const ms = Math.round(performance.now() - started);
    console.log(`draw of 10,000 entries made and loaded in ${ms} ms`);
    const published = (await publishedDraw(db(), a.id))!;
    expect(published.entries).toHaveLength(10_000);
    expect(await verifyDraw(published)).toEqual({ problems: [], mismatched: [] });
    expect(await readState(redis(), a.id)).toMatchObject({ drawHeld: 100, admitted: 0 });
    // The 100th drawn buys with number 100; the 101st finds nothing held for them.
    const byEntry = new Map(rows.map((r) => [r.entryId, r.userId]));
    const hundredth = byEntry.get(published.entries[99]!.entryId)!;
    const next = byEntry.get(published.entries[100]!.entryId)!;
    expect(await buy(a, hundredth)).toMatchObject({ ok: true, sequence: 100 });
    expect(await buy(a, next)).toEqual({ ok: false, code: "SOLD_OUT" });
    await drain(a.id);
    await retire(a.id);
  });

  it("over HTTP: private and signed-in for the entry, public for the draw; bad input is a 4xx with a code and changes nothing", async () => {
    const a = await saleWithPrequeue(2);
    const [u] = await createUsers(1);
    const me = { userId: u!, role: "SHOPPER" as const };
    expect(await joinReply(null, a.id)).toMatchObject({ status: 401, body: { code: "UNAUTHENTICATED" } });
    expect(await prequeueReply(me, "not a sale id!")).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    expect(await drawReply("../etc")).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    const joined = await joinReply(me, a.id);
    expect(joined).toMatchObject({ status: 201, headers: { "cache-control": "private, no-store" } });
    expect(await joinReply(me, a.id)).toMatchObject({ status: 200, body: joined.body });
    const view = await prequeueReply(me, a.id);
    expect(view).toMatchObject({ status: 200, body: { entries: 1, drawn: false, entry: joined.body } });
    // The public record names nobody and hides the seed until the draw.
    const pub = await drawReply(a.id);
    expect(pub).toMatchObject({ status: 200, body: { seed: null, entries: [], entryCount: 1 } });
    expect(JSON.stringify(pub.body)).not.toContain(u!);
    await retire(a.id);
  });

  it("the pre-queue is open only in its window, and only for sales that have one", async () => {
    const [u] = await createUsers(1);
    const far = await createActivity({ stock: 1, startInMs: 30 * 60_000, prequeueMinutes: 5 });
    expect(await joinPrequeue(db(), far.id, u!)).toEqual({ ok: false, code: "PREQUEUE_NOT_OPEN" });
    const plain = await createActivity({ stock: 1, startInMs: 60_000 });
    expect(await joinPrequeue(db(), plain.id, u!)).toEqual({ ok: false, code: "NO_PREQUEUE" });
    expect(await publishedDraw(db(), plain.id)).toBeNull();
    expect(await joinPrequeue(db(), "nosuchsale0000", u!)).toEqual({ ok: false, code: "NOT_FOUND" });
    // A sale without a pre-queue is never held for a draw.
    const live = await createActivity({ stock: 1 });
    expect(await buy(live, u!)).toMatchObject({ ok: true, sequence: 1 });
    await drain(live.id);
    for (const id of [far.id, plain.id, live.id]) await retire(id);
  });
});
