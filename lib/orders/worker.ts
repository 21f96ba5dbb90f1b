import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { ACTIVE_SET, WORKER_GROUP, activityKeys, decodeEntry, finalizeTickets } from "@/lib/flash/store";
import { errorText, log } from "@/lib/log";
import { persistBatch, type ActivityTerms } from "@/lib/orders/persist";
import { countBatchError, observeBatch } from "@/lib/ops/metrics";

export interface WorkerOptions {
  prisma: PrismaClient;
  /** Shared connection for ordinary commands. */
  redis: RedisClient;
  /** Connection of its own for XREADGROUP BLOCK. */
  blocking: RedisClient;
  consumer: string;
  batchSize: number;
  /** Entries pending this long on another consumer are taken over (XAUTOCLAIM). */
  claimIdleMs?: number;
}

type RawEntry = [id: string, fields: string[] | null];
type StreamReply = [key: string, entries: RawEntry[]][] | null;

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
  private readonly log: typeof log;

  constructor(private o: WorkerOptions) {
    this.claimIdleMs = o.claimIdleMs ?? 15_000;
    this.log = log.child({ component: "worker", consumer: o.consumer });
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
        countBatchError();
        this.log.error({ err: errorText(e) }, "batch failed, retrying");
        await sleep(1_000);
        for (const id of this.active) {
          await this.drainOwnPending(id).catch((err: unknown) =>
            this.log.error({ activityId: id, err: errorText(err) }, "retry of pending entries failed; they stay pending until taken over once idle (XAUTOCLAIM)"),
          );
        }
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
      let reply: StreamReply;
      try {
        reply = (await this.o.redis.call(
          "XREADGROUP", "GROUP", WORKER_GROUP, this.o.consumer, "COUNT", this.o.batchSize, "STREAMS", key, "0",
        )) as StreamReply;
      } catch (e) {
        // Left pending: retried after a failed batch or a restart, or taken over once idle (XAUTOCLAIM).
        this.log.warn({ activityId, err: errorText(e) }, "reading own pending entries failed");
        return;
      }
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) return;
      await this.handle(activityId, entries);
    }
  }

  /** Takes over entries left pending by a consumer that died (I2). */
  private async claimStale(activityId: string) {
    const key = activityKeys(activityId).stream;
    let cursor = "0-0";
    do {
      let reply: [string, RawEntry[], string[]?];
      try {
        reply = (await this.o.redis.call(
          "XAUTOCLAIM", key, WORKER_GROUP, this.o.consumer, this.claimIdleMs, cursor, "COUNT", this.o.batchSize,
        )) as [string, RawEntry[], string[]?];
      } catch (e) {
        // The next pass (within a few seconds) tries again.
        this.log.warn({ activityId, err: errorText(e) }, "taking over stale entries failed");
        return;
      }
      cursor = reply[0];
      if (reply[1].length) {
        this.log.info({ activityId, entries: reply[1].length }, "claimed stale entries");
        await this.handle(activityId, reply[1]);
      }
      // Entries deleted from the stream come back without fields; acknowledge them so they stop pending.
      if (reply[2]?.length) await this.o.redis.xack(key, WORKER_GROUP, ...reply[2]);
    } while (cursor !== "0-0" && !this.stopping);
  }

  private async handle(activityId: string, raw: RawEntry[]) {
    const key = activityKeys(activityId).stream;
    // An entry deleted from the stream comes back without fields: nothing to write, only to acknowledge.
    const batch = raw.flatMap(([id, fields]) => (fields?.length ? [decodeEntry(id, fields)] : []));
    if (batch.length) {
      observeBatch(batch.length);
      const outcomes = await persistBatch(this.o.prisma, await this.termsOf(activityId), batch);
      await finalizeTickets(this.o.redis, activityId, outcomes);
      this.persisted += outcomes.filter((x) => x.status === "CONFIRMED").length;
    }
    await this.o.redis.xack(key, WORKER_GROUP, ...raw.map(([id]) => id));
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
