import { spawn, type ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { eachServer } from "@/lib/redis-connect";
import { WORKER_GROUP, activityKeys } from "@/lib/flash/store";
import { nodeArgs } from "@/scripts/lib/procs";
import { createActivity, createCores, createUsers, snapshot, tokenFor, waitUntilServed } from "../support/flash";

// node itself with tsx as a loader, not the tsx CLI: the CLI runs the script in a child process,
// which SIGSTOP and SIGKILL sent to the CLI would not reach.
function startWorker(name: string, extra: Record<string, string> = {}): ChildProcess {
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

/** Stream entries delivered to `consumer` and not acknowledged (XPENDING, extended form). */
async function pendingOn(stream: string, consumer: string): Promise<string[]> {
  const rows = (await redis().xpending(stream, WORKER_GROUP, "-", "+", 10_000, consumer)) as [
    string,
    string,
    number,
    number,
  ][];
  return rows.map(([id]) => id);
}

/** Ids of the clients connected to Redis (on a cluster, to any master: "port/id"). */
async function clientIds(): Promise<Set<string>> {
  const lists = await Promise.all(eachServer(redis()).map(async (s) => [s.options.port, (await s.client("LIST")) as string] as const));
  return new Set(lists.flatMap(([port, list]) => [...list.matchAll(/(?:^|\s)id=(\d+)/g)].map((m) => `${port}/${m[1]!}`)));
}

/**
 * Runs a worker, freezes it (SIGSTOP) at a moment XPENDING shows it holding delivered entries, and
 * kills it (SIGKILL). Commands it had already written still reach Redis, so what it holds is read
 * once Redis has seen its connections close; a worker that ended up holding nothing is not a
 * takeover case, so another attempt is made.
 */
async function killWhileHolding(activityId: string, stream: string): Promise<{ consumer: string; held: string[] }> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const consumer = `victim-${attempt}`;
    const before = await clientIds();
    const victim = startWorker(consumer);
    const exited = new Promise((r) => victim.once("exit", r));
    try {
      await waitFor("the victim to take a batch", async () => (await pendingOn(stream, consumer)).length > 0);
      await waitFor("the victim frozen while holding a batch", async () => {
        victim.kill("SIGSTOP");
        if ((await pendingOn(stream, consumer)).length > 0) return true;
        victim.kill("SIGCONT");
        return false;
      });
    } finally {
      victim.kill("SIGKILL");
      await exited;
    }
    await waitFor("Redis to see the victim's connections close", async () =>
      [...(await clientIds())].every((id) => before.has(id)),
    );
    const held = await pendingOn(stream, consumer);
    if (held.length > 0) return { consumer, held };
  }
  throw new Error("no victim died holding entries in 5 attempts");
}

describe.each([1, 4])("a worker killed while it holds a batch (I2, I4), stock in %i segment(s)", (segments) => {
  it("another worker takes its pending entries over; orders and stock still match", async () => {
    const { cores, close } = createCores(2);
    const a = await createActivity({ stock: 2000, limit: 1, segments });
    const users = await createUsers(2000);
    const results = await Promise.all(
      users.map((u, i) =>
        cores[i % 2]!.admit(a.id, u, { quantity: 1, idempotencyKey: `k-${i}-abcdef`, token: tokenFor(a, u) }),
      ),
    );
    close();
    expect(results.every((r) => r.ok)).toBe(true);
    const stream = activityKeys(a.id).stream;

    const { consumer, held } = await killWhileHolding(a.id, stream);
    // Dead, and still the owner of those entries: only a takeover (XAUTOCLAIM) can finish them.
    expect(held.length).toBeGreaterThan(0);
    expect(await db().order.count({ where: { activityId: a.id } })).toBeLessThan(2000);

    const rescuer = startWorker("rescuer", { WORKER_CLAIM_IDLE_MS: "1000" });
    try {
      await waitUntilServed(a.id);
    } finally {
      rescuer.kill("SIGTERM");
      await new Promise((r) => rescuer.once("exit", r));
    }

    expect(await pendingOn(stream, consumer)).toEqual([]);
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
  }, 120_000); // two worker processes start (tsx), each up to ~20 s on a loaded 2-core box
});
