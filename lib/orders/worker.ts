import "server-only";
import type { Redis } from "ioredis";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { ACTIVE_SET, WORKER_GROUP, activityKeys } from "@/lib/flash/keys";
import { withFlashScripts } from "@/lib/flash/scripts";
import { persistBatch, type ActivityTerms, type Outcome, type QueuedOrder } from "@/lib/orders/persist";

export interface WorkerOptions {
  prisma: PrismaClient;
  /** Shared connection for ordinary commands. */
  redis: Redis;
  /** Connection of its own for XREADGROUP BLOCK. */
  blocking: Redis;
  consumer: string;
  batchSize: number;
  /** Entries pending this long on another consumer are taken over (XAUTOCLAIM). */
  claimIdleMs?: number;
  log?: (line: string) => void;
}

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

/**
 * An order worker: consumes every active activity's stream in the `persist` consumer group,
 * writes orders in batches and records each ticket's final state. Any number may run.
 */
export class OrderWorker {
  private stopping = false;
  private active: string[] = [];
  private activeAt = 0;
  private claimAt = 0;
  private terms = new Map<string, { terms: ActivityTerms; at: number }>();
  private persisted = 0;
  private readonly claimIdleMs: number;

  constructor(private o: WorkerOptions) {
    withFlashScripts(o.redis);
    this.claimIdleMs = o.claimIdleMs ?? 15_000;
  }

  get ordersWritten() {
    return this.persisted;
  }

  /** Finish the batch in hand, then return from run(). */
  stop() {
    this.stopping = true;
  }

  async run(): Promise<void> {
    // Own pending entries first (a restart under the same name), then new ones.
    for (const id of await this.activeActivities(true)) await this.drainOwnPending(id);
    while (!this.stopping) {
      try {
        await this.step();
      } catch (e) {
        // Entries of a failed batch stay pending on this consumer; retry them after a pause.
        this.o.log?.(`batch failed, retrying: ${e instanceof Error ? e.message : String(e)}`);
        await sleep(1_000);
        for (const id of this.active) await this.drainOwnPending(id).catch(() => undefined);
      }
    }
  }

  private async step(): Promise<void> {
    const ids = await this.activeActivities();
    if (Date.now() - this.claimAt > Math.min(this.claimIdleMs, 5_000)) {
      this.claimAt = Date.now();
      for (const id of ids) await this.claimStale(id);
    }
    if (ids.length === 0) {
      await sleep(200);
      return;
    }
    let worked = false;
    // One activity: block on its stream. Several: poll each in turn (keys of different slots cannot share a read).
    for (const id of ids) {
      if (this.stopping) break;
      const block = ids.length === 1 ? 500 : 0;
      worked = (await this.readNew(id, block)) || worked;
    }
    if (!worked && ids.length > 1) await sleep(20);
  }

  private async readNew(activityId: string, blockMs: number): Promise<boolean> {
    const key = activityKeys(activityId).stream;
    const args: (string | number)[] = ["GROUP", WORKER_GROUP, this.o.consumer, "COUNT", this.o.batchSize];
    if (blockMs > 0) args.push("BLOCK", blockMs);
    let reply: StreamReply;
    try {
      reply = (await this.o.blocking.call("XREADGROUP", ...args, "STREAMS", key, ">")) as StreamReply;
    } catch (e) {
      if (String(e).includes("NOGROUP")) {
        this.activeAt = 0;
        return false;
      }
      throw e;
    }
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) return false;
    await this.handle(activityId, entries);
    return true;
  }

  private async drainOwnPending(activityId: string) {
    const key = activityKeys(activityId).stream;
    for (;;) {
      const reply = (await this.o.redis
        .call("XREADGROUP", "GROUP", WORKER_GROUP, this.o.consumer, "COUNT", this.o.batchSize, "STREAMS", key, "0")
        .catch(() => null)) as StreamReply;
      const entries = (reply?.[0]?.[1] ?? []).filter(([, fields]) => fields && fields.length > 0);
      if (entries.length === 0) return;
      await this.handle(activityId, entries);
    }
  }

  /** Takes over entries left pending by a consumer that died (I2). */
  private async claimStale(activityId: string) {
    const key = activityKeys(activityId).stream;
    let cursor = "0-0";
    do {
      const reply = (await this.o.redis
        .call("XAUTOCLAIM", key, WORKER_GROUP, this.o.consumer, this.claimIdleMs, cursor, "COUNT", this.o.batchSize)
        .catch(() => null)) as [string, [string, string[]][], string[]?] | null;
      if (!reply) return;
      cursor = reply[0];
      const entries = reply[1].filter(([, fields]) => fields && fields.length > 0);
      if (entries.length) {
        this.o.log?.(`claimed ${entries.length} stale entries of ${activityId}`);
        await this.handle(activityId, entries);
      }
      // Entries deleted from the stream come back without fields; acknowledge them so they stop pending.
      if (reply[2]?.length) await this.o.redis.xack(key, WORKER_GROUP, ...reply[2]);
    } while (cursor !== "0-0" && !this.stopping);
  }

  private async handle(activityId: string, entries: [string, string[]][]) {
    const terms = await this.termsOf(activityId);
    const batch = entries.map(([entryId, fields]) => toQueuedOrder(entryId, fields));
    const outcomes = await persistBatch(this.o.prisma, terms, batch);
    await this.finalize(activityId, terms, outcomes);
    await this.o.redis.xack(activityKeys(activityId).stream, WORKER_GROUP, ...batch.map((b) => b.entryId));
    this.persisted += outcomes.filter((x) => x.status === "CONFIRMED").length;
  }

  private async finalize(activityId: string, terms: ActivityTerms, outcomes: Outcome[]) {
    const keys = activityKeys(activityId);
    const counter = terms.deductionMode === "PAYMENT" ? "quota" : "stock";
    const ticketKeys = outcomes.map((x) => keys.ticket(x.ticketId));
    const args = outcomes.flatMap((x) =>
      x.status === "CONFIRMED"
        ? ["CONFIRMED", x.orderId, x.payBy ? String(x.payBy.getTime()) : "", counter]
        : ["REJECTED", x.code, "", counter],
    );
    await this.o.redis.flashFinalize(3 + ticketKeys.length, keys.meta, keys.users, keys.stats, ...ticketKeys, ...args);
  }

  private async termsOf(activityId: string): Promise<ActivityTerms> {
    const hit = this.terms.get(activityId);
    if (hit && Date.now() - hit.at < 2_000) return hit.terms;
    const a = await this.o.prisma.activity.findUniqueOrThrow({
      where: { id: activityId },
      select: { id: true, salePrice: true, deductionMode: true, paymentWindowSec: true, perUserLimit: true },
    });
    this.terms.set(activityId, { terms: a, at: Date.now() });
    return a;
  }

  private async activeActivities(force = false): Promise<string[]> {
    if (force || Date.now() - this.activeAt > 1_000) {
      this.active = await this.o.redis.smembers(ACTIVE_SET);
      this.activeAt = Date.now();
    }
    return this.active;
  }
}

function toQueuedOrder(entryId: string, fields: string[]): QueuedOrder {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  return { entryId, ticketId: f.t!, userId: f.u!, quantity: Number(f.q), sequence: Number(f.s) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
