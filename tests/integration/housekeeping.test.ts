import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { FlashCore } from "@/lib/flash/core";
import { orderOfTicket } from "@/lib/flash/instance";
import { housekeep } from "@/lib/flash/scheduler";
import { ACTIVE_SET, activityKeys, forgetActivity, mirrorLifecycle } from "@/lib/flash/store";
import { runControl } from "@/lib/admin/controls";
import { TOKEN_SECRET, createActivity, createUsers, tokenFor } from "../support/flash";
import { createAdmin, retire, startWorkers, waitUntilServed } from "../support/admin-fixtures";

const created: string[] = [];
const conn = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
afterAll(async () => {
  for (const id of created) await retire(id);
  conn.disconnect();
});

describe("housekeeping of sales that are over", () => {
  it("an ended, drained sale leaves the active set, its keys expire, and its tickets still answer from PostgreSQL", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 5, limit: 1 });
    const pending = await createActivity({ stock: 5, limit: 1 });
    created.push(a.id, pending.id);
    const users = await createUsers(4);
    const core = new FlashCore(conn, TOKEN_SECRET, { stateTtlMs: 50, orderOf: orderOfTicket });

    const tickets: string[] = [];
    for (const [i, u] of users.slice(0, 3).entries()) {
      const r = await core.admit(a.id, u, { quantity: 1, idempotencyKey: `hk-${i}-abcdef`, token: tokenFor(a, u) });
      if (!r.ok) throw new Error(`admission refused: ${r.code}`);
      tickets.push(r.ticketId);
    }
    // A live sale is never retired.
    expect(await housekeep(db(), redis(), 3600)).not.toContain(a.id);
    const workers = startWorkers(1);
    try {
      await waitUntilServed(a.id);
    } finally {
      await workers.stop();
    }
    expect(await runControl({ activityId: a.id, action: "end" }, admin.id)).toMatchObject({ ok: true });
    // `pending` has a ticket no worker has answered yet when it ends (they are stopped): it must stay in the set.
    const waiting = await core.admit(pending.id, users[3]!, {
      quantity: 1, idempotencyKey: "hk-pending-abcdef", token: tokenFor(pending, users[3]!),
    });
    expect(waiting).toMatchObject({ ok: true });
    expect(await runControl({ activityId: pending.id, action: "end" }, admin.id)).toMatchObject({ ok: true });

    const retired = await housekeep(db(), redis(), 3600);
    expect(retired).toContain(a.id);
    expect(retired).not.toContain(pending.id);
    const active = await redis().smembers(ACTIVE_SET);
    expect(active).not.toContain(a.id);
    expect(active).toContain(pending.id);
    const keys = activityKeys(a.id);
    for (const key of [keys.meta, keys.users, keys.idem, keys.stream, keys.stats, keys.ticket(tickets[0]!)]) {
      const ttl = await redis().ttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(3600);
    }
    expect(await redis().ttl(activityKeys(pending.id).meta)).toBe(-1);
    // An order of the retired sale moves stock later (an unpaid one expires): the lifecycle hash it
    // creates then expires with the rest instead of living forever.
    expect(await redis().exists(keys.lifecycle)).toBe(0);
    expect(await mirrorLifecycle(redis(), a.id, [{ orderId: "late-order", version: Date.now(), stock: 1, quota: 0 }])).toBe(1);
    expect(await redis().ttl(keys.lifecycle)).toBeGreaterThan(0);

    // The keys expire (deleted here rather than waited for): the 202's ticket still answers CONFIRMED.
    const before = await core.ticket(tickets[0]!, users[0]!);
    await forgetActivity(redis(), a.id);
    const order = await db().order.findUniqueOrThrow({ where: { ticketId: tickets[0]! } });
    const after = await core.ticket(tickets[0]!, users[0]!);
    expect(after).toEqual({
      status: "CONFIRMED",
      sequence: order.sequence,
      orderId: order.id,
      ...(order.payBy ? { payBy: order.payBy.toISOString() } : {}),
    });
    expect(after).toEqual(before);
    // Someone else's ticket still looks like a missing one (I5).
    expect(await core.ticket(tickets[0]!, users[1]!)).toBeNull();
  });
});
