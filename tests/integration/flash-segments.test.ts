// Split stock (docs/architecture.md, "Split stock"): placement of the segments, the sell-out, the
// repair of an admission cut between its steps, and the rebalance by a rebuild. Runs on one Redis
// and, in `npm test`'s cluster pass, on the 3-master Redis Cluster.
import calculateSlot from "cluster-key-slot";
import { afterAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { isCluster, serverFor } from "@/lib/redis-connect";
import { checkInvariants } from "@/lib/flash/invariants";
import { preheatActivity } from "@/lib/flash/preheat";
import {
  META,
  MAX_SEGMENTS,
  activityKeys,
  newTicketId,
  readSegmentLeft,
  readState,
  readUnitsByUser,
  splitAdmissionKeys,
  sweepReservations,
  withScripts,
} from "@/lib/flash/store";
import { runControl } from "@/lib/admin/controls";
import { createActivity, createCores, createUsers, drain, snapshot, tokenFor } from "../support/flash";
import { createAdmin } from "../support/admin-fixtures";

const { cores, close } = createCores(2);
afterAll(close);

describe("split stock", () => {
  it("each segment has a slot of its own; on a cluster the segments spread over the shards", async () => {
    await redis().ping(); // a cluster client has its slot map once connected
    const k = activityKeys("clsegcheck01");
    const keys = [k.meta, ...Array.from({ length: MAX_SEGMENTS - 1 }, (_, i) => k.segment(i + 1))];
    expect(new Set(keys.map((key) => calculateSlot(key))).size).toBe(keys.length);
    // The pending reservations stay in the sale's own slot (the commit reads them with the rest).
    expect(calculateSlot(k.pending)).toBe(calculateSlot(k.meta));
    if (isCluster(redis())) expect(new Set(keys.map((key) => serverFor(redis(), key).options.port)).size).toBeGreaterThan(1);
  });

  it("the preheat shares the stock out; sold out is known once every segment is empty", async () => {
    const a = await createActivity({ stock: 4, limit: 1, segments: 4 });
    expect(await readSegmentLeft(redis(), a.id, 4)).toEqual([1, 1, 1]);
    expect(await redis().hget(activityKeys(a.id).meta, META.stock)).toBe("1");
    const users = await createUsers(5);
    const buy = (i: number) =>
      cores[i % 2]!.admit(a.id, users[i]!, { quantity: 1, idempotencyKey: `seg-key-${i}`, token: tokenFor(a, users[i]!) });
    for (let i = 0; i < 3; i++) expect((await buy(i)).ok).toBe(true);
    expect((await readState(redis(), a.id))?.soldOutAt).toBeNull(); // one unit is left, somewhere
    expect((await buy(3)).ok).toBe(true);
    const state = await readState(redis(), a.id);
    expect(state?.stock).toBe(0);
    expect(state?.soldOutAt).not.toBeNull();
    expect(state?.lastUnit?.sequence).toBe(4);
    expect(await buy(4)).toEqual({ ok: false, code: "SOLD_OUT" });
    await drain(a.id, 1);
    expect(checkInvariants(await snapshot(a.id), { offered: 4 }).filter((c) => !c.ok)).toEqual([]);
  });

  it("an admission cut between its steps: the sweep gives the limit, the key and the units back; a late commit finds nothing", async () => {
    const a = await createActivity({ stock: 9, limit: 1, segments: 3 });
    const [user] = await createUsers(1);
    const r = withScripts(redis());
    const keys = activityKeys(a.id);
    const epoch = (await readState(redis(), a.id))!.epoch;
    const step = async (ticketId: string, s: "R" | "C", from?: number) =>
      r.flashAdmitSplit(...splitAdmissionKeys(a.id, ticketId), user!, 1, "cut-key-123", Date.now(), ticketId, epoch, s, from, "SOLD_OUT");

    // 1. Reserved and took a unit from segment 1, then the web process died.
    const t1 = newTicketId(a.id, epoch);
    expect((await step(t1, "R"))[0]).toBe("RES");
    expect((await r.flashSegment(keys.segment(1), "take", t1, 1, epoch))[0]).toBe("OK");
    expect((await readUnitsByUser(redis(), a.id)).get(user!)).toBe(1);
    expect(await readSegmentLeft(redis(), a.id, 3)).toEqual([2, 3]);
    // A retry of its key waits meanwhile; a young reservation is not swept.
    expect((await cores[0]!.admit(a.id, user!, { quantity: 1, idempotencyKey: "cut-key-123", token: tokenFor(a, user!) }))).toEqual({ ok: false, code: "UNAVAILABLE" });
    expect(await sweepReservations(redis(), a.id, 3, Date.now() - 60_000)).toBe(0);
    expect(await sweepReservations(redis(), a.id, 3, Date.now() + 1000)).toBe(1);
    expect((await readUnitsByUser(redis(), a.id)).get(user!)).toBe(0);
    expect(await readSegmentLeft(redis(), a.id, 3)).toEqual([3, 3]);
    // The process was only slow: its commit comes late and finds its reservation gone.
    expect((await step(t1, "C", 1))[0]).toBe("GONE");

    // 2. Reserved, swept, and only then took its unit (a long pause): the commit fails, the unit goes back.
    const t2 = newTicketId(a.id, epoch);
    expect((await step(t2, "R"))[0]).toBe("RES");
    expect(await sweepReservations(redis(), a.id, 3, Date.now() + 1000)).toBe(1);
    expect((await r.flashSegment(keys.segment(2), "take", t2, 1, epoch))[0]).toBe("OK");
    expect((await step(t2, "C", 2))[0]).toBe("GONE");
    expect((await r.flashSegment(keys.segment(2), "give", t2, 1, epoch))[1]).toBe(3);
    expect((await r.flashSegment(keys.segment(2), "give", t2, 1, epoch))[1]).toBe(3); // once only

    // The key is free again: the shopper's retry is admitted, and nothing was lost or sold twice.
    const again = await cores[1]!.admit(a.id, user!, { quantity: 1, idempotencyKey: "cut-key-123", token: tokenFor(a, user!) });
    expect(again).toMatchObject({ ok: true, duplicate: false, sequence: 1 });
    await drain(a.id, 1);
    expect(checkInvariants(await snapshot(a.id), { offered: 9 }).filter((c) => !c.ok)).toEqual([]);
  });

  it("a rebuild from PostgreSQL shares what is left out again and drops reservations", async () => {
    const a = await createActivity({ stock: 10, limit: 1, segments: 4 });
    const users = await createUsers(3);
    const results = await Promise.all(
      users.map((u, i) => cores[0]!.admit(a.id, u, { quantity: 1, idempotencyKey: `rb-key-${i}`, token: tokenFor(a, u) })),
    );
    expect(results.every((x) => x.ok)).toBe(true);
    await drain(a.id, 1);
    const [late] = await createUsers(1);
    const epoch = (await readState(redis(), a.id))!.epoch;
    const t = newTicketId(a.id, epoch);
    const step = await withScripts(redis()).flashAdmitSplit(
      ...splitAdmissionKeys(a.id, t), late!, 1, "rb-late-key", Date.now(), t, epoch, "R",
    );
    expect(step[0]).toBe("RES");
    await redis().hdel(activityKeys(a.id).meta, META.epoch); // Redis lost its ready mark
    const p = await preheatActivity(db(), redis(), a.id);
    expect(p).toMatchObject({ ok: true, fresh: true, stock: 7 });
    expect(await readSegmentLeft(redis(), a.id, 4)).toEqual([2, 2, 1]);
    expect(await redis().hget(activityKeys(a.id).meta, META.stock)).toBe("2");
    expect(await redis().hlen(activityKeys(a.id).pending)).toBe(0);
    expect((await readUnitsByUser(redis(), a.id)).get(late!)).toBeUndefined();
    expect(checkInvariants(await snapshot(a.id), { offered: 10 }).filter((c) => !c.ok)).toEqual([]);
  });

  it("PAYMENT mode splits the order quota, not the stock; a restock lands in segment 0 and is sold", async () => {
    const a = await createActivity({ stock: 4, limit: 1, mode: "PAYMENT", segments: 3 });
    const before = (await readState(redis(), a.id))!;
    expect(before).toMatchObject({ stock: 4, segments: 3 });
    const quota = before.quota;
    expect(quota).toBeGreaterThan(4);
    expect((await readSegmentLeft(redis(), a.id, 3)).reduce((n, x) => n + x, 0)).toBeLessThan(quota); // meta holds a share
    const users = await createUsers(quota + 2);
    const results = await Promise.all(
      users.map((u, i) => cores[i % 2]!.admit(a.id, u, { quantity: 1, idempotencyKey: `pay-key-${i}`, token: tokenFor(a, u) })),
    );
    expect(results.filter((x) => x.ok)).toHaveLength(quota);
    expect(await readState(redis(), a.id)).toMatchObject({ stock: 4, quota: 0, left: 0 });

    // ORDER mode: a restock's units go to segment 0 (meta), and a shopper of any segment reaches them.
    const b = await createActivity({ stock: 2, limit: 1, segments: 4 });
    const buyers = await createUsers(4);
    for (const [i, u] of buyers.slice(0, 2).entries()) await cores[0]!.admit(b.id, u, { quantity: 1, idempotencyKey: `rs-key-${i}`, token: tokenFor(b, u) });
    expect((await readState(redis(), b.id))?.stock).toBe(0);
    const admin = await createAdmin();
    expect(await runControl({ activityId: b.id, action: "restock", units: 2 }, admin.id)).toMatchObject({ ok: true });
    expect((await readState(redis(), b.id))?.stock).toBe(2);
    for (const [i, u] of buyers.slice(2).entries()) {
      expect((await cores[1]!.admit(b.id, u, { quantity: 1, idempotencyKey: `rs-key-${i + 2}`, token: tokenFor(b, u) })).ok).toBe(true);
    }
    await drain(b.id, 1);
    expect(checkInvariants(await snapshot(b.id), { offered: 4 }).filter((c) => !c.ok)).toEqual([]);
  });
});
