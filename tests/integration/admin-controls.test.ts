import { afterAll, describe, expect, it, vi } from "vitest";
import { Redis } from "ioredis";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { FlashCore, type AdmitResult } from "@/lib/flash/core";
import { readState, withScripts } from "@/lib/flash/store";
import { buyToken } from "@/lib/flash/token";
import { runControl } from "@/lib/admin/controls";
import { TOKEN_SECRET, createActivity, createCores, createUsers, tokenFor, type TestActivity } from "../support/flash";
import {
  createAdmin,
  expectInvariants,
  listenForEvents,
  retire,
  startWorkers,
  waitUntilServed,
} from "../support/admin-fixtures";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codes = (rs: AdmitResult[]) => rs.map((r) => (r.ok ? "OK" : r.code));

function buyer(a: TestActivity, users: string[], cores: FlashCore[], admitted: string[]) {
  return async (i: number, token = tokenFor(a, users[i]!)): Promise<AdmitResult> => {
    const r = await cores[i % cores.length]!.admit(a.id, users[i]!, {
      quantity: 1,
      idempotencyKey: `k-${i}-abcdef`,
      token,
    });
    if (r.ok && !r.duplicate) admitted.push(r.ticketId);
    return r;
  };
}

const created: string[] = [];
afterAll(async () => {
  for (const id of created) await retire(id);
});

describe("run controls under concurrent buying", () => {
  it("pause refuses every later buy with PAUSED while the queue drains; resume sells the rest; I1–I4 hold", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 60, limit: 1 });
    created.push(a.id);
    const users = await createUsers(240);
    const { cores, close } = createCores(2);
    const workers = startWorkers(2);
    const admitted: string[] = [];
    const buy = buyer(a, users, cores, admitted);
    try {
      // A wave in flight while the pause lands: each of its buys is either admitted or refused PAUSED.
      const wave1 = Promise.all(range(0, 40).map((i) => buy(i)));
      const paused = await runControl({ activityId: a.id, action: "pause" }, admin.id);
      expect(paused).toMatchObject({ ok: true, event: "pause" });
      const during = await Promise.all(range(40, 100).map((i) => buy(i)));
      expect(new Set(codes(during))).toEqual(new Set(["PAUSED"]));
      const first = codes(await wave1);
      expect(first.every((c) => c === "OK" || c === "PAUSED")).toBe(true);

      // Both stores say paused, and the tickets admitted before the pause are still answered.
      expect((await db().activity.findUniqueOrThrow({ where: { id: a.id } })).paused).toBe(true);
      expect((await readState(redis(), a.id))?.paused).toBe(true);
      await waitUntilServed(a.id);
      expect(await db().order.count({ where: { activityId: a.id } })).toBe(first.filter((c) => c === "OK").length);

      expect(await runControl({ activityId: a.id, action: "pause" }, admin.id)).toMatchObject({
        ok: false,
        code: "CONFLICT",
      });
      expect(await runControl({ activityId: a.id, action: "resume" }, admin.id)).toMatchObject({ ok: true });
      expect((await readState(redis(), a.id))?.paused).toBe(false);
      const after = codes(await Promise.all(range(100, 240).map((i) => buy(i))));
      expect(after.filter((c) => c === "OK")).toHaveLength(60 - first.filter((c) => c === "OK").length);
      expect(after.every((c) => c === "OK" || c === "SOLD_OUT")).toBe(true);

      await waitUntilServed(a.id);
      const result = await expectInvariants(a.id, 60, admitted);
      expect(result.units).toBe(60);
      const audit = await db().auditLog.findMany({ where: { activityId: a.id }, orderBy: { createdAt: "asc" } });
      expect(audit.map((e) => [e.action, e.actorId])).toEqual([
        ["activity.pause", admin.id],
        ["activity.resume", admin.id],
      ]);
    } finally {
      close();
      await workers.stop();
    }
  });

  it("restock during a flood adds exactly its units in both stores and wakes the sold-out flag; I1–I4 hold", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 40, limit: 1 });
    created.push(a.id);
    const users = await createUsers(300);
    // Long-lived caches, as in a web process: only the restock event can wake their sold-out flag quickly.
    const conns = [0, 1].map(() => new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true }));
    const cores = conns.map((c) => new FlashCore(c, TOKEN_SECRET, { stateTtlMs: 60_000 }));
    const listeners = await Promise.all(cores.map(listenForEvents));
    const workers = startWorkers(2);
    const admitted: string[] = [];
    const buy = buyer(a, users, cores, admitted);
    try {
      const [wave1, restocked] = await Promise.all([
        Promise.all(range(0, 150).map((i) => buy(i))),
        sleep(5).then(() => runControl({ activityId: a.id, action: "restock", units: 30 }, admin.id)),
      ]);
      expect(restocked).toMatchObject({ ok: true, event: "restock" });
      // Whether or not the restock landed before the wave ended, enough buyers come to sell all 70.
      const wave1b = await Promise.all(range(150, 200).map((i) => buy(i)));
      expect([...codes(wave1), ...codes(wave1b)].filter((c) => c === "OK")).toHaveLength(70);
      expect((await readState(redis(), a.id))?.soldOutAt).not.toBeNull();

      // Sold out, and both processes have cached it: a restock must reach them through the event.
      for (const i of [200, 201]) expect(await buy(i)).toEqual({ ok: false, code: "SOLD_OUT" });
      const again = await runControl({ activityId: a.id, action: "restock", units: 25 }, admin.id);
      expect(again).toMatchObject({ ok: true });
      const row = await db().activity.findUniqueOrThrow({ where: { id: a.id } });
      expect(row.totalStock).toBe(95);
      expect(row.soldOutAt).toBeNull();
      expect((await readState(redis(), a.id))?.soldOutAt).toBeNull();
      await vi.waitFor(() => listeners.forEach((l) => expect(l.events.filter((e) => e === "restock")).toHaveLength(2)));

      const wave2 = codes(await Promise.all(range(202, 300).map((i) => buy(i))));
      expect(wave2.filter((c) => c === "OK")).toHaveLength(25);

      await waitUntilServed(a.id);
      const result = await expectInvariants(a.id, 40 + 30 + 25, admitted);
      expect(result).toMatchObject({ units: 95, stockLeft: 0 });
      const audit = await db().auditLog.findMany({ where: { activityId: a.id, action: "activity.restock" } });
      expect(audit.map((e) => (e.details as { units: number }).units).sort()).toEqual([25, 30]);
    } finally {
      listeners.forEach((l) => l.close());
      conns.forEach((c) => c.disconnect());
      await workers.stop();
    }
  });

  it("end under a flood refuses later buys and the queue still drains; cancel refuses too", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 100, limit: 1 });
    const b = await createActivity({ stock: 10, limit: 1 });
    created.push(a.id, b.id);
    const users = await createUsers(160);
    const { cores, close } = createCores(2);
    const workers = startWorkers(1);
    const admitted: string[] = [];
    const buy = buyer(a, users, cores, admitted);
    try {
      const wave1 = Promise.all(range(0, 60).map((i) => buy(i)));
      expect(await runControl({ activityId: a.id, action: "end" }, admin.id)).toMatchObject({ ok: true, event: "end" });
      const later = codes(await Promise.all(range(60, 120).map((i) => buy(i))));
      expect(new Set(later)).toEqual(new Set(["ENDED"]));
      const sold = codes(await wave1).filter((c) => c === "OK").length;
      const row = await db().activity.findUniqueOrThrow({ where: { id: a.id } });
      expect(row.status).toBe("ENDED");
      expect(row.endAt.getTime()).toBeLessThanOrEqual(Date.now());
      expect((await readState(redis(), a.id))?.status).toBe("ENDED");
      await waitUntilServed(a.id);
      expect((await expectInvariants(a.id, 100, admitted)).units).toBe(sold);
      expect(await runControl({ activityId: a.id, action: "restock", units: 5 }, admin.id)).toMatchObject({
        ok: false,
        code: "CONFLICT",
      });

      expect(await runControl({ activityId: b.id, action: "cancel" }, admin.id)).toMatchObject({ ok: true });
      const bUsers = users.slice(120);
      const refused = await Promise.all(
        bUsers.map((u, i) =>
          cores[0]!.admit(b.id, u, { quantity: 1, idempotencyKey: `c-${i}-abcdef`, token: tokenFor(b, u) }),
        ),
      );
      expect(new Set(codes(refused))).toEqual(new Set(["ENDED"]));
      expect((await db().activity.findUniqueOrThrow({ where: { id: b.id } })).status).toBe("CANCELLED");
    } finally {
      close();
      await workers.stop();
    }
  });

  it("start early and extend the end take effect in both stores", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 5, limit: 1, startInMs: 120_000 });
    created.push(a.id);
    const [u] = await createUsers(1);
    const { cores, close } = createCores(1);
    try {
      expect(await runControl({ activityId: a.id, action: "start" }, admin.id)).toMatchObject({
        ok: true,
        event: "start",
      });
      const row = await db().activity.findUniqueOrThrow({ where: { id: a.id } });
      expect(row.status).toBe("LIVE");
      expect(row.startAt.getTime()).toBeLessThanOrEqual(Date.now());
      // This core has never read the sale, so nothing stale is cached: its first read sees the new start.
      expect((await readState(redis(), a.id))?.startMs).toBe(row.startAt.getTime());
      const token = buyToken(TOKEN_SECRET, a.id, row.startAt.getTime(), u!);
      expect(await cores[0]!.admit(a.id, u!, { quantity: 1, idempotencyKey: "early-abcdef", token })).toMatchObject({
        ok: true,
      });

      expect(
        await runControl({ activityId: a.id, action: "extend", endAt: new Date(row.endAt.getTime() - 1000) }, admin.id),
      ).toMatchObject({
        ok: false,
        code: "BAD_INPUT",
        fieldErrors: { endAt: "newEndLater" },
      });
      const endAt = new Date(row.endAt.getTime() + 3600_000);
      expect(await runControl({ activityId: a.id, action: "extend", endAt }, admin.id)).toMatchObject({ ok: true });
      expect((await db().activity.findUniqueOrThrow({ where: { id: a.id } })).endAt.getTime()).toBe(endAt.getTime());
      expect((await readState(redis(), a.id))?.endMs).toBe(endAt.getTime());
      expect(await runControl({ activityId: a.id, action: "start" }, admin.id)).toMatchObject({
        ok: false,
        code: "CONFLICT",
      });
    } finally {
      close();
    }
  });
});

describe("when Redis fails after PostgreSQL changed", () => {
  it("a pause is reverted in PostgreSQL and recorded as such", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 5 });
    created.push(a.id);
    const r = withScripts(redis());
    const spy = vi.spyOn(r, "adminMirror").mockRejectedValue(new Error("connection lost"));
    try {
      expect(await runControl({ activityId: a.id, action: "pause" }, admin.id)).toMatchObject({
        ok: false,
        code: "UNAVAILABLE",
      });
    } finally {
      spy.mockRestore();
    }
    expect((await db().activity.findUniqueOrThrow({ where: { id: a.id } })).paused).toBe(false);
    expect((await readState(redis(), a.id))?.paused).toBe(false);
    const audit = await db().auditLog.findMany({ where: { activityId: a.id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((e) => e.action)).toEqual(["activity.pause", "activity.pause.reverted"]);
  });

  it("start early reports a failed preheat to the admin instead of hiding it", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 5, limit: 1, startInMs: 120_000, preheat: false });
    created.push(a.id);
    // The preheat writes the sale's state in one MULTI: Redis fails right there.
    const down = vi.spyOn(redis(), "multi").mockImplementationOnce(() => {
      throw new Error("connection lost");
    });
    try {
      expect(await runControl({ activityId: a.id, action: "start" }, admin.id)).toMatchObject({
        ok: true,
        event: "start",
        warning: "redisCopyPending",
      });
      expect(down).toHaveBeenCalled();
    } finally {
      down.mockRestore();
    }
    // The control stands in PostgreSQL; Redis has nothing yet, so the scheduler's next pass preheats it.
    expect((await db().activity.findUniqueOrThrow({ where: { id: a.id } })).status).toBe("LIVE");
    expect(await readState(redis(), a.id)).toBeNull();
  });

  it("a restock that never reached Redis is undone; one whose reply was lost is kept, once", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 5 });
    created.push(a.id);
    const r = withScripts(redis());

    const down = vi.spyOn(r, "adminRestock").mockRejectedValue(new Error("connection lost"));
    try {
      expect(await runControl({ activityId: a.id, action: "restock", units: 7 }, admin.id)).toMatchObject({
        ok: false,
        code: "UNAVAILABLE",
      });
    } finally {
      down.mockRestore();
    }
    let row = await db().activity.findUniqueOrThrow({ where: { id: a.id } });
    expect([row.totalStock, row.stock, (await readState(r, a.id))?.stock]).toEqual([5, 5, 5]);

    // Every attempt applies and then loses its reply: the operation id keeps it to one application.
    // (Applied through a second connection: the shared one's auto-pipelining calls back into the spied method.)
    const side = withScripts(new Redis(process.env.REDIS_URL!));
    const lossy = vi.spyOn(r, "adminRestock").mockImplementation(async (...args: Parameters<Redis["adminRestock"]>) => {
      await side.adminRestock(...args);
      throw new Error("reply lost");
    });
    try {
      expect(await runControl({ activityId: a.id, action: "restock", units: 7 }, admin.id)).toMatchObject({ ok: true });
      expect(lossy).toHaveBeenCalledTimes(3);
    } finally {
      lossy.mockRestore();
      side.disconnect();
    }
    row = await db().activity.findUniqueOrThrow({ where: { id: a.id } });
    expect([row.totalStock, row.stock, (await readState(r, a.id))?.stock]).toEqual([12, 12, 12]);
    const audit = await db().auditLog.findMany({ where: { activityId: a.id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((e) => e.action)).toEqual(["activity.restock", "activity.restock.reverted", "activity.restock"]);
  });
});
