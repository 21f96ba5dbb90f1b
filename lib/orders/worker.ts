import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import {
  ACTIVE_SET,
  WORKER_GROUP,
  activityKeys,
  decodeEntry,
  finalizeTickets,
  readDeliveries,
  recordDeadLetter,
  type StreamEntry,
} from "@/lib/flash/store";
import { rebuildSaleState } from "@/lib/flash/preheat";
import { errorText, log } from "@/lib/log";
import { persistBatch, type ActivityTerms, type BatchResult } from "@/lib/orders/persist";
import { countBatchError, countDeadLetter, observeBatch } from "@/lib/ops/metrics";

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
  /** An entry that fails alone this many deliveries while PostgreSQL answers goes to the dead letters. */
  deadLetterAfter?: number;
  /**
   * A read that returned less than a batch waits this long once for more before writing, so a steady
   * stream is written in fewer, larger transactions (less CPU per order beside the web processes).
   */
  lingerMs?: number;
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
  private readonly deadLetterAfter: number;
  private readonly log: typeof log;

  constructor(private o: WorkerOptions) {
    this.claimIdleMs = o.claimIdleMs ?? 15_000;
    this.deadLetterAfter = o.deadLetterAfter ?? 5;
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
    // Own pending entries first (a restart under the same name), then new ones. Guarded: whatever
    // they hit (Redis or PostgreSQL away, a bad entry), the loop below retries; a restart never crashes.
    try {
      for (const id of await this.activeActivities(true)) {
        await this.drainOwnPending(id).catch((e: unknown) =>
          this.log.error({ activityId: id, err: errorText(e) }, "start-up recovery of own pending entries failed; retried by the loop"),
        );
      }
    } catch (e) {
      this.log.error({ err: errorText(e) }, "start-up recovery could not list the active sales; retried by the loop");
    }
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
    let entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) return false;
    if (this.o.lingerMs && entries.length < this.o.batchSize) {
      await sleep(this.o.lingerMs);
      const more = (await this.o.blocking.call(
        "XREADGROUP", "GROUP", WORKER_GROUP, this.o.consumer, "COUNT", this.o.batchSize - entries.length, "STREAMS", key, ">",
      )) as StreamReply;
      entries = entries.concat(more?.[0]?.[1] ?? []);
    }
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
    let failed: unknown = null;
    const keep = new Set<string>();
    if (batch.length) {
      observeBatch(batch.length);
      let result: BatchResult;
      try {
        result = await persistBatch(this.o.prisma, await this.termsOf(activityId), batch);
      } catch (e) {
        // One entry must not wedge the others: write them one by one; a failing one stays pending
        // (retried), or goes to the dead letters once it has failed often enough while PostgreSQL answers.
        result = { outcomes: [], rewoundAt: null };
        for (const entry of batch) {
          let one: BatchResult | null;
          try {
            if (batch.length === 1) throw e;
            one = await persistBatch(this.o.prisma, await this.termsOf(activityId), [entry]);
          } catch (err) {
            failed = err;
            one = (await this.deadLetter(activityId, entry, err))
              ? { outcomes: [{ ticketId: entry.ticketId, status: "REJECTED", code: "FAILED" }], rewoundAt: null }
              : null;
          }
          if (!one) keep.add(entry.entryId);
          result.outcomes.push(...(one?.outcomes ?? []));
          result.rewoundAt ??= one?.rewoundAt ?? null;
        }
      }
      await finalizeTickets(this.o.redis, activityId, result.outcomes);
      this.persisted += result.outcomes.filter((x) => x.status === "CONFIRMED").length;
      if (result.rewoundAt !== null) {
        // Redis handed out a sequence number PostgreSQL holds: it lost writes. Fence and rebuild now.
        this.log.error({ activityId, epoch: result.rewoundAt }, "Redis reused a sequence number: rebuilding the sale from PostgreSQL");
        await rebuildSaleState(this.o.prisma, this.o.redis, activityId, { onlyFrom: result.rewoundAt });
      }
    }
    const done = raw.map(([id]) => id).filter((id) => !keep.has(id));
    if (done.length) await this.o.redis.xack(key, WORKER_GROUP, ...done);
    if (failed && keep.size) throw failed;
  }

  /**
   * A poison entry: it failed alone `deadLetterAfter` deliveries while PostgreSQL answers (an outage
   * is no reason to give up). Recorded in the dead letters (dashboard, metric); its ticket is then
   * answered REJECTED FAILED, which returns its unit. False: not yet, it stays pending.
   */
  private async deadLetter(activityId: string, entry: StreamEntry, err: unknown): Promise<boolean> {
    const attempts = await readDeliveries(this.o.redis, activityId, entry.entryId).catch(() => 0);
    if (attempts < this.deadLetterAfter) return false;
    try {
      await this.o.prisma.$queryRaw`SELECT 1`;
    } catch {
      return false;
    }
    await recordDeadLetter(this.o.redis, {
      activityId, entryId: entry.entryId, ticketId: entry.ticketId, userId: entry.userId,
      attempts, error: errorText(err), at: Date.now(),
    });
    countDeadLetter();
    this.log.error({ activityId, entryId: entry.entryId, attempts, err: errorText(err) }, "entry moved to the dead letters");
    return true;
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
