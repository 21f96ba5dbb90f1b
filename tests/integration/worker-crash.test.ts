import { spawn, type ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { WORKER_GROUP, activityKeys } from "@/lib/flash/keys";
import { nodeArgs } from "@/scripts/lib/procs";
import { createActivity, createCores, createUsers, snapshot, tokenFor } from "../support/flash";

function startWorker(name: string, extra: Record<string, string> = {}): ChildProcess {
  // Node itself, not the tsx CLI: a SIGKILL to the CLI would leave the real worker running on.
  return spawn(...nodeArgs("scripts/worker.ts"), {
    env: { ...process.env, WORKER_NAME: name, WORKER_BATCH_SIZE: "50", ...extra },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("a worker killed mid-batch (I2, I4)", () => {
  it("another worker finishes its entries; orders and stock still match", async () => {
    const { cores, close } = createCores(2);
    const a = await createActivity({ stock: 2000, limit: 1 });
    const users = await createUsers(2000);
    const results = await Promise.all(
      users.map((u, i) => cores[i % 2]!.admit(a.id, u, { quantity: 1, idempotencyKey: `k-${i}-abcdef`, token: tokenFor(a, u) })),
    );
    close();
    expect(results.every((r) => r.ok)).toBe(true);
    const keys = activityKeys(a.id);

    const victim = startWorker("victim");
    const exited = new Promise((r) => victim.once("exit", r));
    await waitFor("the victim to write some orders", async () => (await db().order.count({ where: { activityId: a.id } })) >= 100);
    await waitFor("a batch in hand", async () => {
      const pending = (await redis().xpending(keys.stream, WORKER_GROUP)) as [number, ...unknown[]];
      return pending[0] > 0;
    });
    victim.kill("SIGKILL");
    await exited;
    const written = await db().order.count({ where: { activityId: a.id } });
    expect(written).toBeLessThan(2000);

    const rescuer = startWorker("rescuer", { WORKER_CLAIM_IDLE_MS: "1000" });
    try {
      await waitFor("every ticket to be answered", async () => {
        const [seq, served] = await redis().hmget(keys.meta, "seq", "served");
        return Number(seq) === Number(served);
      });
    } finally {
      rescuer.kill("SIGTERM");
      await new Promise((r) => rescuer.once("exit", r));
    }

    const s = await snapshot(a.id);
    expect(s.orders).toHaveLength(2000);
    expect(new Set(s.orders.map((o) => o.ticketId)).size).toBe(2000);
    expect(s.statuses.every((st) => st === "CONFIRMED")).toBe(true);
    expect(s.activity.stock).toBe(0);
    expect(Number(s.meta.stock)).toBe(0);
    // I4: initial stock = left + in queue + in orders, in both stores.
    expect(s.activity.stock + s.orders.reduce((n, o) => n + o.quantity, 0)).toBe(2000);
    const pending = (await redis().xpending(keys.stream, WORKER_GROUP)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });
});
