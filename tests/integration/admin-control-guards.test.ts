import { afterAll, describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { readState } from "@/lib/flash/store";
import { runControl } from "@/lib/admin/controls";
import type { ControlInput } from "@/lib/admin/schemas";
import { createActivity } from "../support/flash";
import { createAdmin, retire } from "../support/admin-fixtures";

/*
 * Each control only applies from the states where it makes sense, and the database condition (not
 * only the check on the row read first) enforces it: the row read can be stale when a second admin
 * or the scheduler changes the sale in between, which the tests stage by serving an old copy.
 */
const created: string[] = [];
afterAll(async () => {
  for (const id of created) await retire(id);
});

/** Moves a live sale's end into the past, as if the scheduler had not yet marked it ENDED. */
const endPassed = (id: string) =>
  db().activity.update({ where: { id }, data: { startAt: new Date(Date.now() - 120_000), endAt: new Date(Date.now() - 1000) } });
const cancelled = (id: string) => db().activity.update({ where: { id }, data: { status: "CANCELLED" } });

async function sale() {
  const a = await createActivity({ stock: 5 });
  created.push(a.id);
  return a;
}

/** A live sale whose end has passed while the scheduler has not yet marked it ENDED. */
async function overdueSale() {
  const a = await sale();
  await endPassed(a.id);
  return a;
}

/** The control is refused although the row it reads first still allows it: only the database condition can. */
async function refusedFromStaleRead(id: string, change: (id: string) => Promise<unknown>, input: ControlInput, actorId: string) {
  const spy = await staleRead(id, () => change(id));
  try {
    expect(await runControl(input, actorId)).toMatchObject({ ok: false, code: "CONFLICT" });
  } finally {
    spy.mockRestore();
  }
}

/** Serves the row as it was before `change`, as if another writer changed it after the read. */
async function staleRead(id: string, change: () => Promise<unknown>) {
  const before = await db().activity.findUniqueOrThrow({ where: { id } });
  await change();
  return vi.spyOn(db().activity, "findUnique").mockResolvedValueOnce(before as never);
}

describe("control guards", () => {
  it("resume is refused on a cancelled sale, and stays refused when the cancel lands after the read", async () => {
    const admin = await createAdmin();
    const a = await sale();
    expect(await runControl({ activityId: a.id, action: "pause" }, admin.id)).toMatchObject({ ok: true });
    expect(await runControl({ activityId: a.id, action: "cancel" }, admin.id)).toMatchObject({ ok: true });
    expect(await runControl({ activityId: a.id, action: "resume" }, admin.id)).toMatchObject({
      ok: false,
      code: "CONFLICT",
    });

    const b = await sale();
    expect(await runControl({ activityId: b.id, action: "pause" }, admin.id)).toMatchObject({ ok: true });
    await refusedFromStaleRead(b.id, cancelled, { activityId: b.id, action: "resume" }, admin.id);
    for (const id of [a.id, b.id]) {
      expect((await db().activity.findUniqueOrThrow({ where: { id } })).paused).toBe(true);
      expect((await readState(redis(), id))?.paused).toBe(true);
    }
    const audit = await db().auditLog.findMany({ where: { activityId: { in: [a.id, b.id] }, action: "activity.resume" } });
    expect(audit).toHaveLength(0);
  });

  it("pause is refused once the end has passed, even from a stale read", async () => {
    const admin = await createAdmin();
    const a = await overdueSale();
    expect(await runControl({ activityId: a.id, action: "pause" }, admin.id)).toMatchObject({
      ok: false,
      code: "CONFLICT",
    });
    const b = await sale();
    await refusedFromStaleRead(b.id, endPassed, { activityId: b.id, action: "pause" }, admin.id);
    for (const id of [a.id, b.id]) expect((await db().activity.findUniqueOrThrow({ where: { id } })).paused).toBe(false);
  });

  it("restock is refused once the end has passed or the sale was cancelled, even from a stale read", async () => {
    const admin = await createAdmin();
    const a = await overdueSale();
    expect(await runControl({ activityId: a.id, action: "restock", units: 3 }, admin.id)).toMatchObject({
      ok: false,
      code: "CONFLICT",
    });
    const b = await sale();
    await refusedFromStaleRead(b.id, endPassed, { activityId: b.id, action: "restock", units: 3 }, admin.id);
    const c = await sale();
    await refusedFromStaleRead(c.id, cancelled, { activityId: c.id, action: "restock", units: 3 }, admin.id);
    for (const id of [a.id, b.id, c.id]) {
      const row = await db().activity.findUniqueOrThrow({ where: { id } });
      expect([row.totalStock, row.stock, (await readState(redis(), id))?.stock]).toEqual([5, 5, 5]);
    }
  });
});
