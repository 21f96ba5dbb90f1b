import { afterAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import type { AdmitResult } from "@/lib/flash/core";
import { readState, readStats, readWorkerGroup } from "@/lib/flash/store";
import { readDashboard } from "@/lib/admin/dashboard";
import { runControl } from "@/lib/admin/controls";
import { createActivity, createCores, createUsers, tokenFor } from "../support/flash";
import { createAdmin, retire, startWorkers, waitUntilServed } from "../support/admin-fixtures";

const created: string[] = [];
afterAll(async () => {
  for (const id of created) await retire(id);
});

describe("the live dashboard's figures", () => {
  it("agree with direct PostgreSQL counts and Redis reads after a burst of buys", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 30, limit: 2 });
    created.push(a.id);
    const users = await createUsers(60);
    const { cores, close } = createCores(2);
    const results: AdmitResult[] = [];
    const buy = async (i: number, quantity: number, key: string, token = tokenFor(a, users[i]!)) => {
      const r = await cores[i % 2]!.admit(a.id, users[i]!, { quantity, idempotencyKey: key, token });
      results.push(r);
      return r;
    };
    try {
      // A burst with every kind of answer: admitted, retried (same key), over the limit, bad token,
      // refused while paused, and sold out (in Lua, and later from the processes' sold-out flag).
      await Promise.all(users.slice(0, 20).map((_, i) => buy(i, 1, `first-${i}-abcdef`)));
      await Promise.all(users.slice(0, 5).map((_, i) => buy(i, 1, `first-${i}-abcdef`)));
      await Promise.all(users.slice(0, 3).map((_, i) => buy(i, 2, `over-${i}-abcdef`)));
      await Promise.all(users.slice(20, 24).map((_, i) => buy(20 + i, 1, `bad-${i}-abcdef`, "x".repeat(43))));
      expect(await runControl({ activityId: a.id, action: "pause" }, admin.id)).toMatchObject({ ok: true });
      await Promise.all(users.slice(24, 30).map((_, i) => buy(24 + i, 1, `paused-${i}-abcdef`)));
      expect(await runControl({ activityId: a.id, action: "resume" }, admin.id)).toMatchObject({ ok: true });
      await Promise.all(users.slice(30, 60).map((_, i) => buy(30 + i, 1, `late-${i}-abcdef`)));
      await Promise.all(cores.map((c) => c.flushMetrics()));

      // While the queue drains, Redis's own books balance at every read: meta and stats are read together.
      const workers = startWorkers(2);
      try {
        for (let i = 0; i < 5; i++) {
          const d = (await readDashboard(a.id))!;
          expect(d.redis!.stockLeft + d.redis!.queueUnits + d.counters.confirmedUnits).toBe(30);
          expect(d.redis!.queueTickets).toBe(d.counters.admitted - d.counters.confirmed - d.counters.rejected);
        }
        await waitUntilServed(a.id);
      } finally {
        await workers.stop();
      }
    } finally {
      close();
    }

    const d = (await readDashboard(a.id))!;
    const [meta, stats, group] = await Promise.all([readState(redis(), a.id), readStats(redis(), a.id), readWorkerGroup(redis(), a.id)]);
    const row = await db().activity.findUniqueOrThrow({ where: { id: a.id } });
    const orders = await db().order.findMany({ where: { activityId: a.id } });

    // Our own tally of the answers.
    const fresh = results.filter((r) => r.ok && !r.duplicate);
    const refusedByCode: Record<string, number> = {};
    for (const r of results) if (!r.ok) refusedByCode[r.code] = (refusedByCode[r.code] ?? 0) + 1;
    expect(refusedByCode).toMatchObject({ LIMIT_REACHED: 3, BAD_TOKEN: 4, PAUSED: 6 });
    expect(refusedByCode.SOLD_OUT).toBeGreaterThan(0);

    // Redis
    expect(d.redis!.stockLeft).toBe(meta!.stock);
    expect(d.redis!.admittedTickets).toBe(meta!.admitted);
    expect(d.redis!.soldOutAt).toBe(new Date(meta!.soldOutAt!).toISOString());
    expect(d.counters.admitted).toBe(stats.admitted);
    expect(d.counters.admitted).toBe(fresh.length);
    expect(d.counters.refused).toEqual(refusedByCode);
    expect(d.redis!.queueTickets).toBe(0);
    expect(d.redis!.queueUnits).toBe(0);
    expect(d.worker).toEqual(group);
    expect(d.worker!.lag).toBe(0);
    expect(d.worker!.pending).toBe(0);

    // PostgreSQL
    const units = orders.reduce((n, o) => n + o.quantity, 0);
    expect(d.db.stock).toBe(row.stock);
    expect(d.db.holdingOrders).toBe(orders.length);
    expect(d.db.holdingUnits).toBe(units);
    expect(d.counters.confirmed).toBe(orders.length);
    expect(d.counters.confirmedUnits).toBe(units);

    // Both: sold out, and every unit accounted for.
    expect(units).toBe(30);
    expect(d.redis!.stockLeft).toBe(0);
    expect(d.db.stock).toBe(0);
    expect(d.conservation).toEqual({ offered: 30, accounted: 30, settled: true });
    expect(d.activity).toMatchObject({ status: "LIVE", paused: false, sellable: 30 });

    // The web processes' p95 arrived with the flush (this process's pid).
    expect(d.latency.p95Ms).not.toBeNull();
    expect(d.latency.processes).toBeGreaterThanOrEqual(1);
  });
});
