// Slot placement and shard spread. Runs in both passes of `npm test`: on one Redis, and on the
// private 3-master Redis Cluster (where a key in the wrong slot would fail with CROSSSLOT).
import { randomBytes } from "node:crypto";
import calculateSlot from "cluster-key-slot";
import { describe, expect, it } from "vitest";
import { activityKeys, newTicketId } from "@/lib/flash/store";
import { redis } from "@/lib/redis";
import { connectRedis, isCluster, serverFor } from "@/lib/redis-connect";
import { RateLimits } from "@/lib/rate-limit";
import { createActivity, createCores, createUsers, drain, snapshot, tokenFor } from "../support/flash";
import { limitsConfig } from "../support/web";

const clustered = isCluster(redis());

describe(`Redis placement (${clustered ? "3-master cluster" : "one server"})`, () => {
  it("every key of an activity, tickets included, hashes to the activity's one slot", () => {
    const id = "clslotcheck01";
    const k = activityKeys(id);
    const keys = [k.meta, k.users, k.idem, k.stream, k.stats, k.restocks, k.lifecycle, k.mine, k.trace, k.ticket(newTicketId(id, 1))];
    expect(new Set(keys.map((key) => calculateSlot(key))).size).toBe(1);
  });

  it("sales spread over the shards; workers drain every one of them; I1–I4 hold in each", async () => {
    const sales = await Promise.all(Array.from({ length: 6 }, () => createActivity({ stock: 5, limit: 1 })));
    const users = await createUsers(8);
    const { cores, close } = createCores(2);
    try {
      await Promise.all(
        sales.flatMap((a, s) =>
          users.map((u, i) => cores[(i + s) % 2]!.admit(a.id, u, { quantity: 1, idempotencyKey: `k-${s}-${i}-abcdef`, token: tokenFor(a, u) })),
        ),
      );
    } finally {
      close();
    }
    if (clustered) {
      const shards = new Set(sales.map((a) => serverFor(redis(), activityKeys(a.id).meta).options.port));
      expect(shards.size).toBeGreaterThan(1);
    }
    for (const a of sales) await drain(a.id, 2);
    for (const a of sales) {
      const s = await snapshot(a.id);
      expect(s.orders).toHaveLength(5);
      expect(new Set(s.orders.map((o) => o.userId)).size).toBe(5);
      expect(s.state?.stock).toBe(0);
      expect(s.activity.stock).toBe(0);
      expect([...s.tickets.values()].every((t) => t.state === "CONFIRMED")).toBe(true);
      expect(s.group).toMatchObject({ pending: 0, lag: 0 });
    }
  });

  it("rate-limit counters (one key each) are shared by web processes", async () => {
    const conns = [0, 1].map(() => connectRedis(process.env.REDIS_URL!, { enableAutoPipelining: true }));
    try {
      const ns = `rl-cl-${randomBytes(4).toString("hex")}`;
      const config = limitsConfig({ token: { user: { points: 2, seconds: 60 }, ip: { points: 1000, seconds: 60 } } });
      const [a, b] = conns.map((c) => new RateLimits(c, config, ns));
      expect((await a!.hit("token", "cl-user")).ok).toBe(true);
      expect((await b!.hit("token", "cl-user")).ok).toBe(true);
      // A key's first hit in a process is counted in the background; the third hit, a repeat on the
      // other process, waits for Redis and sees the two before it.
      await Promise.all([a!.settled(), b!.settled()]);
      expect(await a!.hit("token", "cl-user")).toMatchObject({ ok: false });
      expect((await b!.hit("token", "cl-other")).ok).toBe(true);
    } finally {
      conns.forEach((c) => c.disconnect());
    }
  });
});
