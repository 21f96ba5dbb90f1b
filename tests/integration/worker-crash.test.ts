import { spawn, type ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { WORKER_GROUP, activityKeys } from "@/lib/flash/store";
import { createActivity, createCores, createUsers, snapshot, tokenFor, waitUntilServed } from "../support/flash";

function startWorker(name: string, extra: Record<string, string> = {}): ChildProcess {
  return spawn("node_modules/.bin/tsx", ["--import", "./scripts/register.mjs", "scripts/worker.ts"], {
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

/** Stream entries delivered to `consumer` and not acknowledged (XPENDING, extended form). */
async function pendingOn(stream: string, consumer: string): Promise<string[]> {
  const rows = (await redis().xpending(stream, WORKER_GROUP, "-", "+", 10_000, consumer)) as [string, string, number, number][];
  return rows.map(([id]) => id);
}

describe("a worker killed while it holds a batch (I2, I4)", () => {
  it("another worker takes its pending entries over; orders and stock still match", async () => {
    const { cores, close } = createCores(2);
    const a = await createActivity({ stock: 2000, limit: 1 });
    const users = await createUsers(2000);
    const results = await Promise.all(
      users.map((u, i) => cores[i % 2]!.admit(a.id, u, { quantity: 1, idempotencyKey: `k-${i}-abcdef`, token: tokenFor(a, u) })),
    );
    close();
    expect(results.every((r) => r.ok)).toBe(true);
    const stream = activityKeys(a.id).stream;

    const victim = startWorker("victim");
    const exited = new Promise((r) => victim.once("exit", r));
    let held: string[] = [];
    try {
      await waitFor("the victim to write some orders", async () => (await db().order.count({ where: { activityId: a.id } })) >= 100);
      // Freeze it, and keep it frozen only at a moment it holds delivered, unacknowledged entries.
      await waitFor("the victim frozen while holding a batch", async () => {
        victim.kill("SIGSTOP");
        held = await pendingOn(stream, "victim");
        if (held.length === 0) victim.kill("SIGCONT");
        return held.length > 0;
      });
    } finally {
      victim.kill("SIGKILL");
      await exited;
    }
    expect(held.length).toBeGreaterThan(0);
    // Dead, and still the owner of those entries: only a takeover (XAUTOCLAIM) can finish them.
    expect(await pendingOn(stream, "victim")).toEqual(held);
    expect(await db().order.count({ where: { activityId: a.id } })).toBeLessThan(2000);

    const rescuer = startWorker("rescuer", { WORKER_CLAIM_IDLE_MS: "1000" });
    try {
      await waitUntilServed(a.id);
    } finally {
      rescuer.kill("SIGTERM");
      await new Promise((r) => rescuer.once("exit", r));
    }

    expect(await pendingOn(stream, "victim")).toEqual([]);
    const s = await snapshot(a.id);
    const heldTickets = s.entries.filter((e) => held.includes(e.entryId));
    expect(heldTickets).toHaveLength(held.length);
    expect(heldTickets.every((e) => s.tickets.get(e.ticketId)?.state === "CONFIRMED")).toBe(true);
    expect(s.orders).toHaveLength(2000);
    expect(new Set(s.orders.map((o) => o.ticketId)).size).toBe(2000);
    expect([...s.tickets.values()].every((t) => t.state === "CONFIRMED")).toBe(true);
    expect(s.activity.stock).toBe(0);
    expect(s.state?.stock).toBe(0);
    // I4: initial stock = left + in queue + in orders, in both stores.
    expect(s.activity.stock + s.orders.reduce((n, o) => n + o.quantity, 0)).toBe(2000);
    expect(s.group).toMatchObject({ pending: 0, lag: 0 });
  });
});
