import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { metricsRegistry } from "@/lib/ops/metrics";
import { WORKER_GROUP, activityKeys } from "@/lib/flash/store";
import { createActivity, createCores, createUsers, startOrderWorkers, tokenFor, waitUntilServed } from "../support/flash";

describe("order workers reading several live sales", () => {
  it("persist every sale's orders, and a sale whose stream lost its group holds up none of the others", async () => {
    const { cores, close } = createCores(1);
    const [a, b, broken, retired] = await Promise.all([
      createActivity({ stock: 400 }), createActivity({ stock: 300 }), createActivity({ stock: 10 }), createActivity({ stock: 10 }),
    ]);
    // Its keys half gone (as after a flush of the group): every read naming its stream fails with NOGROUP.
    await redis().xgroup("DESTROY", activityKeys(broken!.id).stream, WORKER_GROUP);
    const workers = startOrderWorkers(2, { batchSize: 50, claimIdleMs: 1000 });
    try {
      const users = await createUsers(300);
      // Admitted while the workers already run, so they read both streams as the orders arrive.
      const results = await Promise.all(
        [a!, b!].flatMap((s) =>
          users.map((u, i) => cores[0]!.admit(s.id, u, { quantity: 1, idempotencyKey: `wr-${s.id}-${i}`, token: tokenFor(s, u) })),
        ),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      await waitUntilServed(a!.id);
      await waitUntilServed(b!.id);

      // A stream deleted while the workers block on it (a sale retired) is no failed batch: they go on at once.
      const batchErrors = async () => (await metricsRegistry.getSingleMetric("worker_batch_errors_total")!.get()).values[0]?.value ?? 0;
      const errorsBefore = await batchErrors();
      await redis().del(activityKeys(retired!.id).stream);
      const later = await createUsers(100);
      const more = await Promise.all(
        later.map((u, i) => cores[0]!.admit(a!.id, u, { quantity: 1, idempotencyKey: `wr-later-${i}`, token: tokenFor(a!, u) })),
      );
      expect(more.every((r) => r.ok)).toBe(true);
      await waitUntilServed(a!.id);
      expect(await batchErrors()).toBe(errorsBefore);
    } finally {
      await workers.stop();
      close();
    }
    expect(await db().order.count({ where: { activityId: a!.id } })).toBe(400);
    expect(await db().order.count({ where: { activityId: b!.id } })).toBe(300);
  }, 120_000);
});
