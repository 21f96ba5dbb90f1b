import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { FlashCore } from "@/lib/flash/core";
import { refusal } from "@/lib/flash/http";
import { orderOfTicket, rebuildAfterRewind, saleOfActivity } from "@/lib/flash/instance";
import { checkInvariants, type Check } from "@/lib/flash/invariants";
import { runSchedule } from "@/lib/flash/scheduler";
import { latestStateRun, reconcileSaleStates } from "@/lib/flash/reconcile";
import {
  ACTIVE_SET,
  META,
  WORKER_GROUP,
  activityKeys,
  ensureWorkerGroup,
  newTicketId,
  readDeadLetters,
  readNodeId,
  readState,
  readTickets,
} from "@/lib/flash/store";
import { rebuildSaleState } from "@/lib/flash/preheat";
import { OrderWorker } from "@/lib/orders/worker";
import { readDashboard } from "@/lib/admin/dashboard";
import { runControl } from "@/lib/admin/controls";
import { TOKEN_SECRET, createActivity, createUsers, drain, snapshot, startOrderWorkers, tokenFor, type TestActivity } from "../support/flash";
import { createAdmin } from "../support/admin-fixtures";

/*
 * The durability contract (docs/durability.md) under the faults that broke it: Redis coming back
 * empty, Redis rewound to an earlier state while PostgreSQL moved on, a cancel with a backlog, a
 * poison entry, counters drifting. Each case failed on the code before the Redis generations.
 */

const conn = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
afterAll(() => conn.disconnect());

const newCore = () => new FlashCore(conn, TOKEN_SECRET, { stateTtlMs: 50, orderOf: orderOfTicket, saleOf: saleOfActivity });

async function buy(core: FlashCore, a: TestActivity, user: string, key: string) {
  return core.admit(a.id, user, { quantity: 1, idempotencyKey: key, token: tokenFor(a, user) });
}

/** Admits each user once (key `${tag}-${i}`), returning the ticket ids. */
async function admitAll(core: FlashCore, a: TestActivity, users: string[], tag: string): Promise<string[]> {
  const out: string[] = [];
  for (const [i, u] of users.entries()) {
    const r = await buy(core, a, u, `${tag}-${i}-abcdef`);
    if (!r.ok) throw new Error(`admission refused: ${r.code}`);
    out.push(r.ticketId);
  }
  return out;
}

/** The checks that hold across a Redis loss: the stream then holds only what came after it. */
function acrossLoss(checks: Check[]): Check[] {
  return checks.filter(
    (c) =>
      c.invariant === "I1" ||
      c.name.startsWith("PostgreSQL:") ||
      c.name === "Redis and PostgreSQL agree on the stock left" ||
      c.name === "every admitted ticket is final in Redis (none QUEUED or missing)",
  );
}

async function wipeSale(activityId: string) {
  await redis().del(...(await redis().keys(`{act:${activityId}}*`)));
  await redis().srem(ACTIVE_SET, activityId);
}

async function expectNoOrderTwice(activityId: string) {
  const orders = await db().order.findMany({ where: { activityId }, select: { userId: true, idempotencyKey: true } });
  const keys = orders.map((o) => `${o.userId}:${o.idempotencyKey}`);
  expect(new Set(keys).size).toBe(keys.length);
  const users = orders.map((o) => o.userId);
  expect(new Set(users).size).toBe(users.length); // limit 1
}

/**
 * A sale rewound past tickets no worker wrote yet: 5 admitted and written, 5 more admitted (202) and
 * then lost with Redis's last writes. PostgreSQL's highest sequence number stays 5, so nothing but a
 * witness of the numbers handed out can tell; `core` is a web process with that witness.
 */
async function rewoundPastUnwritten(userCount: number) {
  const a = await createActivity({ stock: 40, limit: 1 });
  const users = await createUsers(userCount);
  const core = new FlashCore(conn, TOKEN_SECRET, { stateTtlMs: 50, orderOf: orderOfTicket, saleOf: saleOfActivity, onRewind: rebuildAfterRewind });
  await admitAll(core, a, users.slice(0, 5), "one");
  await drain(a.id);
  const keys = (await redis().keys(`{act:${a.id}}*`)).sort();
  const saved = await Promise.all(keys.map(async (k) => [k, await redis().dumpBuffer(k)] as const));
  const epoch = (await readState(redis(), a.id))!.epoch;
  const lost = await admitAll(core, a, users.slice(5, 10), "two");
  await wipeSale(a.id);
  await redis().sadd(ACTIVE_SET, a.id);
  for (const [k, v] of saved) await redis().restore(k, 0, v!, "REPLACE");
  return { a, users, core, epoch, lost };
}

describe("Redis comes back empty", () => {
  it("admission answers 503 until the sale is rebuilt from PostgreSQL; lost tickets answer REJECTED LOST_IN_FAILOVER; retried keys map to their order", async () => {
    const a = await createActivity({ stock: 40, limit: 1 });
    const users = await createUsers(25);
    const core = newCore();
    const persisted = await admitAll(core, a, users.slice(0, 10), "early");
    await drain(a.id);
    const queued = await admitAll(core, a, users.slice(10, 20), "late"); // no worker: still queued
    const epochBefore = (await readState(redis(), a.id))!.epoch;

    // Redis comes back without this sale (FLUSHALL for one sale: the other test files' sales stay, so
    // workers spawned by later files do not have to rebuild them all).
    await wipeSale(a.id);
    const fresh = newCore();

    // A live sale with no Redis state: retry (503 with Retry-After), never 404.
    const refused = await buy(fresh, a, users[20]!, "during-abcdef");
    expect(refused).toEqual({ ok: false, code: "UNAVAILABLE" });
    const reply = refusal("UNAVAILABLE");
    expect(reply.status).toBe(503);
    expect(reply.headers?.["retry-after"]).toBe("1");

    // A written ticket still answers CONFIRMED (PostgreSQL).
    const order0 = await db().order.findUniqueOrThrow({ where: { ticketId: persisted[0]! } });
    expect(await fresh.ticket(persisted[0]!, users[0]!)).toMatchObject({ status: "CONFIRMED", orderId: order0.id });

    // The scheduler rebuilds the sale before admission resumes: a new generation, counters from PostgreSQL.
    await runSchedule(db(), redis());
    // The rebuild announces itself on the change channel, which a web process follows; this core does not.
    fresh.states.invalidate(a.id);
    const state = (await readState(redis(), a.id))!;
    expect(state.epoch).toBe(epochBefore + 1);
    expect(state.stock).toBe(30);
    expect(state.admitted).toBe(10); // the sequence continues after PostgreSQL's highest
    expect((await db().activity.findUniqueOrThrow({ where: { id: a.id } })).redisEpoch).toBe(epochBefore + 1);

    // The queued tickets Redis lost now have a final answer (their units were counted back by the rebuild).
    for (const [i, t] of queued.entries()) {
      expect(await fresh.ticket(t, users[10 + i]!)).toEqual({ status: "REJECTED", sequence: 0, code: "LOST_IN_FAILOVER" });
    }

    // A retry with a key whose order exists: the same ticket (idempotency map rebuilt from PostgreSQL), no second order.
    const retry = await buy(fresh, a, users[0]!, "early-0-abcdef");
    expect(retry).toMatchObject({ ok: true, ticketId: persisted[0], duplicate: true });
    // A retry of a lost ticket is a new purchase (the first one was refused).
    const again = await buy(fresh, a, users[10]!, "late-0-abcdef");
    expect(again).toMatchObject({ ok: true, duplicate: false });
    await drain(a.id);
    if (!again.ok) throw new Error("unreachable");
    expect(await fresh.ticket(again.ticketId, users[10]!)).toMatchObject({ status: "CONFIRMED", sequence: 11 });
    await expectNoOrderTwice(a.id);
    expect(await db().order.count({ where: { activityId: a.id } })).toBe(11);

    const failed = acrossLoss(checkInvariants(await snapshot(a.id), { offered: 40 })).filter((c) => !c.ok);
    expect(failed).toEqual([]);
  });
});

describe("Redis rewound to an earlier state while PostgreSQL moved on", () => {
  it("a reused sequence number refuses that ticket alone, the batch goes on, the sale is rebuilt, and a forgotten key maps to its order", async () => {
    const a = await createActivity({ stock: 40, limit: 1 });
    const users = await createUsers(30);
    const core = newCore();
    await admitAll(core, a, users.slice(0, 10), "one");
    await drain(a.id);

    // Keep the sale's Redis state as it is now (like an AOF whose tail is lost later).
    const keys = (await redis().keys(`{act:${a.id}}*`)).sort();
    const saved = await Promise.all(keys.map(async (k) => [k, await redis().dumpBuffer(k)] as const));

    await admitAll(core, a, users.slice(10, 20), "two");
    await drain(a.id);
    expect(await db().order.count({ where: { activityId: a.id } })).toBe(20);

    // Rewind: the state saved above, while PostgreSQL holds sequence numbers 11–20.
    await wipeSale(a.id);
    await redis().sadd(ACTIVE_SET, a.id);
    for (const [k, v] of saved) await redis().restore(k, 0, v!, "REPLACE");
    expect((await readState(redis(), a.id))!.admitted).toBe(10);

    // Before anything notices: new buyers get sequence numbers 11+ again, and a buyer of round two
    // retries with their key, which Redis no longer knows.
    const fresh = newCore();
    const reused = await admitAll(fresh, a, users.slice(20, 25), "three");
    const retried = await buy(fresh, a, users[10]!, "two-0-abcdef");
    expect(retried).toMatchObject({ ok: true, duplicate: false });
    if (!retried.ok) throw new Error("unreachable");

    await drain(a.id); // the old workers wedged here on 23505 orders_activity_id_sequence_key

    for (const [i, t] of reused.entries()) {
      expect(await fresh.ticket(t, users[20 + i]!)).toMatchObject({ status: "REJECTED", code: "LOST_IN_FAILOVER" });
    }
    const original = await db().order.findFirstOrThrow({ where: { activityId: a.id, userId: users[10]!, idempotencyKey: "two-0-abcdef" } });
    expect(await fresh.ticket(retried.ticketId, users[10]!)).toMatchObject({ status: "CONFIRMED", orderId: original.id });
    expect(await db().order.count({ where: { activityId: a.id } })).toBe(20);

    // Rebuilt: a new generation, the counters of PostgreSQL, sequence numbers after its highest.
    const state = (await readState(redis(), a.id))!;
    expect(state.stock).toBe(20);
    expect(state.admitted).toBeGreaterThanOrEqual(20);
    const after = await buy(fresh, a, users[25]!, "four-0-abcdef");
    expect(after).toMatchObject({ ok: true });
    if (!after.ok) throw new Error("unreachable");
    expect(after.sequence).toBeGreaterThan(20);
    await drain(a.id);
    expect(await fresh.ticket(after.ticketId, users[25]!)).toMatchObject({ status: "CONFIRMED" });
    await expectNoOrderTwice(a.id);

    const failed = acrossLoss(checkInvariants(await snapshot(a.id), { offered: 40 })).filter((c) => !c.ok);
    expect(failed).toEqual([]);
  });

  it("a rewind PostgreSQL never saw (the lost tickets were not yet written) is caught by the web process's sequence witness", async () => {
    const { a, users, core, epoch, lost } = await rewoundPastUnwritten(12);

    // The next admission gets number 6 again: the process that saw 6–10 rebuilds the sale.
    await buy(core, a, users[10]!, "three-0-abcdef");
    await expect.poll(async () => (await readState(redis(), a.id))?.epoch, { timeout: 20_000 }).toBe(epoch + 1);
    for (const [i, t] of lost.entries()) {
      expect(await core.ticket(t, users[5 + i]!)).toMatchObject({ status: "REJECTED", code: "LOST_IN_FAILOVER" });
    }
    // The lost buyers may buy again; their units came back with the rebuild.
    const again = await buy(core, a, users[5]!, "again-0-abcdef");
    expect(again).toMatchObject({ ok: true });
    await drain(a.id);
    await expectNoOrderTwice(a.id);
    const failed = acrossLoss(checkInvariants(await snapshot(a.id), { offered: 40 })).filter((c) => !c.ok);
    expect(failed).toEqual([]);
  });

  it("a rewind no later admission shows (nobody bought after the crash) is caught when a lost ticket is asked for", async () => {
    // No one buys again: no sequence number is handed out twice, so only the lookup can tell.
    const { a, users, core, epoch, lost } = await rewoundPastUnwritten(11);

    // The old code answered these 404 for good.
    for (const [i, t] of lost.entries()) {
      expect(await core.ticket(t, users[5 + i]!)).toMatchObject({ status: "REJECTED", code: "LOST_IN_FAILOVER" });
    }
    const state = (await readState(redis(), a.id))!;
    expect(state).toMatchObject({ epoch: epoch + 1, stock: 35 });

    // With nothing behind, a ticket id no one was given stays unknown and rebuilds nothing.
    const after = await buy(core, a, users[10]!, "three-0-abcdef");
    expect(after).toMatchObject({ ok: true });
    expect(await core.ticket(newTicketId(a.id, epoch + 1), users[10]!)).toBeNull();
    expect((await readState(redis(), a.id))!.epoch).toBe(epoch + 1);
    await drain(a.id);
    await expectNoOrderTwice(a.id);
    const failed = acrossLoss(checkInvariants(await snapshot(a.id), { offered: 40 })).filter((c) => !c.ok);
    expect(failed).toEqual([]);
  });

  it("the scheduler notices a sequence behind PostgreSQL and rebuilds before admission resumes", async () => {
    const a = await createActivity({ stock: 10, limit: 1 });
    const users = await createUsers(4);
    await admitAll(newCore(), a, users.slice(0, 3), "s");
    await drain(a.id);
    // Redis lost its last writes: the sequence and the stock behind PostgreSQL.
    await redis().hset(activityKeys(a.id).meta, META.seq, 1, META.stock, 9);
    await runSchedule(db(), redis());
    const state = (await readState(redis(), a.id))!;
    expect(state).toMatchObject({ admitted: 3, stock: 7, epoch: 2 });
  });
});

describe("a node that may have lost writes (NODE): restart or failover", () => {
  /** What the rebuild recorded, made to look like another history of the same server (a restart). */
  const restarted = async (a: TestActivity) => {
    const now = await readNodeId(redis(), activityKeys(a.id).meta);
    await redis().hset(activityKeys(a.id).meta, META.node, `${"0".repeat(39)}1|${now.split("|")[1]}`);
  };
  const config = async (name: string) => ((await conn.config("GET", name)) as string[])[1]!;

  it("two processes that find the sale stale at once both drain first: queued tickets keep their orders, one rebuild", async () => {
    const a = await createActivity({ stock: 20, limit: 1 });
    const users = await createUsers(6);
    const tickets = await admitAll(newCore(), a, users, "node");
    await restarted(a);
    const fsync = await config("appendfsync");
    await conn.config("SET", "appendfsync", "everysec"); // a restart that cannot prove it kept its last writes
    try {
      // One process judges NODE and fences; the second (another worker's schedule) finds the sale fenced.
      const first = rebuildSaleState(db(), redis(), a.id);
      const end = Date.now() + 10_000;
      while ((await redis().hget(activityKeys(a.id).meta, META.epoch)) !== null && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const second = runSchedule(db(), redis());
      // It must wait for the drain too: before it, a missing ready mark read as an empty Redis and the
      // second process rebuilt at once, refusing the six tickets LOST_IN_FAILOVER although Redis had them.
      await new Promise((r) => setTimeout(r, 500));
      expect(await redis().hget(activityKeys(a.id).meta, META.fence)).toBe("NODE");
      const workers = startOrderWorkers(2, { batchSize: 100, claimIdleMs: 1000 });
      try {
        // Whichever takes the row lock first rebuilds (generation 2); the other then finds the sale sound.
        const [done] = await Promise.all([first, second]);
        if (done) expect(done).toMatchObject({ reason: "NODE", epoch: 2, lost: 0 });
      } finally {
        await workers.stop();
      }
    } finally {
      await conn.config("SET", "appendfsync", fsync);
    }
    const states = await readTickets(redis(), a.id, tickets);
    expect([...states.values()].map((t) => t.state)).toEqual(tickets.map(() => "CONFIRMED"));
    const meta = await redis().hmget(activityKeys(a.id).meta, META.epoch, META.fence);
    expect(meta).toEqual(["2", null]);
    expect(checkInvariants(await snapshot(a.id), { offered: 20, given: tickets, exactly: true }).filter((c) => !c.ok)).toEqual([]);
  });

  it("a restart with appendfsync always lost nothing: the new identity is recorded, the sale is not rebuilt", async () => {
    const a = await createActivity({ stock: 5, limit: 1 });
    const users = await createUsers(2);
    await admitAll(newCore(), a, users, "always");
    await restarted(a);
    const [aof, fsync] = [await config("appendonly"), await config("appendfsync")];
    await conn.config("SET", "appendonly", "yes");
    await conn.config("SET", "appendfsync", "always");
    try {
      await runSchedule(db(), redis());
    } finally {
      await conn.config("SET", "appendfsync", fsync);
      await conn.config("SET", "appendonly", aof);
    }
    expect(await redis().hget(activityKeys(a.id).meta, META.node)).toBe(await readNodeId(redis(), activityKeys(a.id).meta));
    expect((await readState(redis(), a.id))!).toMatchObject({ epoch: 1, admitted: 2, served: 0 });
    await drain(a.id);
    expect(checkInvariants(await snapshot(a.id), { offered: 5 }).filter((c) => !c.ok)).toEqual([]);
  });
});

describe("a cancel with a backlog", () => {
  it("queued tickets of a cancelled sale are refused CANCELLED with their units back; no payable order is written", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 10, limit: 1 });
    const users = await createUsers(6);
    const core = newCore();
    const tickets = await admitAll(core, a, users, "c");
    expect(await runControl({ activityId: a.id, action: "cancel" }, admin.id)).toMatchObject({ ok: true });
    await drain(a.id);
    for (const [i, t] of tickets.entries()) {
      expect(await core.ticket(t, users[i]!)).toMatchObject({ status: "REJECTED", code: "CANCELLED" });
    }
    expect(await db().order.count({ where: { activityId: a.id } })).toBe(0);
    expect((await readState(redis(), a.id))!.stock).toBe(10);
    expect((await db().activity.findUniqueOrThrow({ where: { id: a.id } })).stock).toBe(10);
  });
});

describe("workers never wedge", () => {
  it("a restarted worker's start-up recovery survives a poison entry, which reaches the dead letters after N attempts", async () => {
    const activityId = `poison${Date.now().toString(36)}`; // in no PostgreSQL table: every write of it fails
    const keys = activityKeys(activityId);
    await ensureWorkerGroup(redis(), activityId);
    const entryId = await redis().xadd(keys.stream, "*", "t", `${activityId}.AAAAAAAAAAAAAAAAAAAAAA`, "u", "nobody", "q", "1", "s", "1");
    const consumer = `restart-${Date.now().toString(36)}`;
    // The previous life of this worker took the entry and died holding it.
    await redis().call("XREADGROUP", "GROUP", WORKER_GROUP, consumer, "COUNT", 10, "STREAMS", keys.stream, ">");
    const { count: before } = await readDeadLetters(redis());

    const blocking = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
    const worker = new OrderWorker({ prisma: db(), redis: redis(), blocking, consumer, batchSize: 10, claimIdleMs: 100, deadLetterAfter: 3 });
    const run = worker.run(); // the old code rejected here (unguarded drainOwnPending)
    try {
      const deadline = Date.now() + 30_000;
      while ((await readDeadLetters(redis())).count === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    } finally {
      worker.stop();
      await run;
      blocking.disconnect();
    }
    const letters = await readDeadLetters(redis());
    expect(letters.count).toBe(before + 1);
    expect(letters.latest[0]).toMatchObject({ activityId, entryId, attempts: 3 });
    const pending = (await redis().xpending(keys.stream, WORKER_GROUP)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    await redis().srem(ACTIVE_SET, activityId);
    await redis().del(keys.stream);
  });
});

describe("reconciliation of the sale state", () => {
  it("reports counter drift, repairs it once seen twice, and the dashboard shows the last run", async () => {
    const a = await createActivity({ stock: 12, limit: 1 });
    const users = await createUsers(4);
    await admitAll(newCore(), a, users, "r");
    await drain(a.id);
    const meta = activityKeys(a.id).meta;
    await redis().hincrby(meta, META.stock, 3); // Redis offers 3 units PostgreSQL does not have
    await redis().hset(activityKeys(a.id).users, users[0]!, 0);

    const first = await reconcileSaleStates(db(), redis(), { ttlSec: 3600, only: [a.id] });
    const mine = first.drift.filter((d) => d.activityId === a.id);
    expect(mine.map((d) => [d.kind, d.repaired])).toEqual([["STOCK", false], ["USERS", false]]);
    const second = await reconcileSaleStates(db(), redis(), { ttlSec: 3600, only: [a.id] });
    expect(second.drift.filter((d) => d.activityId === a.id).every((d) => d.repaired)).toBe(true);
    expect((await readState(redis(), a.id))!.stock).toBe(8);
    expect(await redis().hget(activityKeys(a.id).users, users[0]!)).toBe("1");
    const third = await reconcileSaleStates(db(), redis(), { ttlSec: 3600, only: [a.id] });
    expect(third.drift.filter((d) => d.activityId === a.id)).toEqual([]);

    const run = await latestStateRun(db());
    expect(run).toMatchObject({ checked: third.checked });
    const dash = await readDashboard(a.id);
    expect(dash!.durability).toMatchObject({ ready: true, reconcile: { checked: third.checked } });
    const failed = checkInvariants(await snapshot(a.id), { offered: 12 }).filter((c) => !c.ok);
    expect(failed).toEqual([]);
  });
});
