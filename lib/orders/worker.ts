import "server-only";
import calculateSlot from "cluster-key-slot";
import { isCluster, type RedisClient } from "@/lib/redis-connect";
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
  private idleSteps = 0;
  /** Active sales whose stream had no consumer group at the last read (left out until the list is read again). */
  private noGroup = new Set<string>();
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
    // One read per group of streams that can share one (all of them on one Redis; one slot's on a cluster).
    // One group blocks on it; several are polled in turn, the pause growing while nothing comes.
    const groups = this.readGroups(ids);
    let worked = false;
    for (const group of groups) {
      if (this.stopping) break;
      worked = (await this.readNew(group, groups.length === 1 ? 500 : 0)) || worked;
    }
    if (groups.length > 1) {
      this.idleSteps = worked ? 0 : this.idleSteps + 1;
      if (!worked) await sleep(Math.min(10 * 2 ** this.idleSteps, 100)); // 20, 40, 80, then 100 ms
    }
  }

  /** The active sales grouped by the streams one XREADGROUP may name together. */
  private readGroups(ids: string[]): string[][] {
    if (!isCluster(this.o.blocking)) return ids.length ? [ids] : [];
    const bySlot = new Map<number, string[]>();
    for (const id of ids) {
      const slot = calculateSlot(activityKeys(id).stream);
      const group = bySlot.get(slot);
      if (group) group.push(id);
      else bySlot.set(slot, [id]);
    }
    return [...bySlot.values()];
  }

  private async readNew(activityIds: string[], blockMs: number): Promise<boolean> {
    const keys: string[] = activityIds.map((id) => activityKeys(id).stream);
    const read = async (streams: string[], count: number, block: number) => {
      const args: (string | number)[] = ["GROUP", WORKER_GROUP, this.o.consumer, "COUNT", count];
      if (block > 0) args.push("BLOCK", block);
      const reply = (await this.o.blocking.call("XREADGROUP", ...args, "STREAMS", ...streams, ...streams.map(() => ">"))) as StreamReply;
      return new Map((reply ?? []).filter(([, entries]) => entries.length > 0));
    };
    let got: Map<string, RawEntry[]>;
    try {
      got = await read(keys, this.o.batchSize, blockMs);
    } catch (e) {
      // A stream deleted while the read blocked on it (its sale retired): read the active list again, go on.
      if (String(e).includes("UNBLOCKED")) {
        this.activeAt = 0;
        return false;
      }
      if (!String(e).includes("NOGROUP")) throw e;
      // A sale without its group (its keys dropped) must not hold up the others: find it by reading one by
      // one, and leave it out until the active list is next read (it has likely left it).
      if (activityIds.length === 1) {
        this.noGroup.add(activityIds[0]!);
        return false;
      }
      let worked = false;
      for (const id of activityIds) worked = (await this.readNew([id], 0)) || worked;
      return worked;
    }
    if (got.size === 0) return false;
    // A stream that gave less than a batch waits once for more, so a steady stream is written in fewer transactions.
    const short = [...got].filter(([, entries]) => entries.length < this.o.batchSize).map(([key]) => key);
    if (this.o.lingerMs && short.length) {
      await sleep(this.o.lingerMs);
      // The largest gap: a stream that had less to fill gets a batch somewhat over batchSize (under two).
      const room = Math.max(...short.map((key) => this.o.batchSize - got.get(key)!.length));
      for (const [key, more] of await read(short, room, 0)) got.set(key, got.get(key)!.concat(more));
    }
    for (const [key, entries] of got) await this.handle(activityIds[keys.indexOf(key)]!, entries);
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
        // A sale whose keys are gone (retired, or dropped on purpose) has nothing to take over: as the read does,
        // leave it out until the active list is read again, without a warning each pass.
        if (String(e).includes("NOGROUP")) {
          this.noGroup.add(activityId);
          return void this.log.debug({ activityId }, "no consumer group to take entries over from");
        }
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
      this.noGroup.clear();
    }
    return this.noGroup.size ? this.active.filter((id) => !this.noGroup.has(id)) : this.active;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
