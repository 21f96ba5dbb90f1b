import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import type { Activity, PrismaClient } from "@/lib/generated/prisma/client";
import {
  META,
  STATS,
  TICKET_STATE,
  activityKeys,
  encodeRules,
  ensureWorkerGroup,
  finalizeTickets,
  holdingStatuses,
  publishChange,
  movedSegments,
  nodeMayHaveLost,
  readNodeId,
  readState,
  readStream,
  readWorkerGroup,
  readTickets,
  writeRules,
  withScripts,
  writeSegments,
  type MetaRules,
} from "@/lib/flash/store";
import { log } from "@/lib/log";
import { countRebuild } from "@/lib/ops/metrics";
import { resolveExisting, type Outcome } from "@/lib/orders/persist";
import { rebuildLifecycleState } from "@/lib/orders/stock-mirror";
import { rebuildDrawState } from "@/lib/flash/fair-entry";
import { clearChannelState, rebuildChannelState } from "@/lib/channels";

/** Activities are preheated this long before their start (the scheduler's lead). */
export const PREHEAT_LEAD_MS = 10 * 60_000;

export type PreheatResult = { ok: true; fresh: boolean; stock: number } | { ok: false; code: "NOT_FOUND" };

/**
 * Why a sale's Redis state cannot be trusted, or null when it can (docs/durability.md):
 * NOT_READY  no generation mark: never preheated, a rebuild cut short, or Redis came back empty;
 * EPOCH      a generation other than PostgreSQL's: Redis was restored from before the last rebuild;
 * BEHIND     Redis's last sequence number is below PostgreSQL's highest: Redis lost its last writes;
 * NODE       the node serving the sale may lack acknowledged writes nobody has seen yet, which none
 *            of the above can tell: a promoted replica, or the server restarted without fsyncing
 *            before every answer (nodeVerdict in lib/flash/store/split.ts). A restart with
 *            appendfsync always lost nothing and is no reason.
 * A sale fenced for the drain before a rebuild reads as the reason it was fenced for (META.fence).
 */
export type StaleReason = "NOT_READY" | "EPOCH" | "BEHIND" | "NODE";

export async function staleReason(
  prisma: Pick<PrismaClient, "$queryRaw">,
  redis: RedisClient,
  activityId: string,
): Promise<StaleReason | null> {
  return (await judge(prisma, redis, activityId)).reason;
}

/** staleReason, with the generation Redis showed when it was judged (null: none), for the fence. */
async function judge(
  prisma: Pick<PrismaClient, "$queryRaw">,
  redis: RedisClient,
  activityId: string,
): Promise<{ reason: StaleReason | null; epoch: string | null }> {
  const meta = activityKeys(activityId).meta;
  const [[epoch, seq, node, segments, fence], [pg]] = await Promise.all([
    redis.hmget(meta, META.epoch, META.seq, META.node, META.segments, META.fence),
    prisma.$queryRaw<{ epoch: number; seq: number | null }[]>`
      SELECT a.redis_epoch AS epoch, (SELECT max(sequence) FROM orders WHERE activity_id = a.id) AS seq
      FROM activities a WHERE a.id = ${activityId}`,
  ]);
  const is = (reason: StaleReason | null) => ({ reason, epoch: epoch ?? null });
  if (!pg) return is("NOT_READY");
  // Fenced by a process draining the queue before its rebuild: the reason it fenced for, so this
  // caller drains (waits) too rather than rebuilding at once (FENCE_REASONS, drainBeforeRebuild).
  if (epoch == null) return is(FENCE_REASONS.find((r) => r === fence) ?? "NOT_READY");
  if (Number(epoch) !== pg.epoch) return is("EPOCH");
  if (Number(seq ?? 0) < (pg.seq ?? 0)) return is("BEHIND");
  // A generation written before the node was recorded has no mark: nothing to compare. A restart that
  // provably lost nothing (appendfsync always) is no reason: nodeMayHaveLost records the node again.
  if (node && (await nodeMayHaveLost(redis, meta, META.node, node))) return is("NODE");
  // A split stock: a segment's shard may have failed over (or restarted) on its own.
  if (Number(segments ?? 1) > 1 && (await movedSegments(redis, activityId, Number(segments))).length > 0) return is("NODE");
  return is(null);
}

/** The reasons whose rebuild drains the queue first: the node may lack a tail, the rest of its queue is sound. */
const FENCE_REASONS = ["NODE", "BEHIND"] as const satisfies StaleReason[];

/**
 * How long a rebuild for NODE or BEHIND waits for the workers to write what the node still queues:
 * until they have answered nothing for DRAIN_IDLE_MS (dead, or stuck), at most DRAIN_MAX_MS; then it
 * goes on, and what is still queued is answered from PostgreSQL. Slow workers that still make
 * progress (a loaded machine) are waited for, since each ticket they write is one not refused.
 */
const DRAIN_IDLE_MS = 10_000;
const DRAIN_MAX_MS = 60_000;

/**
 * NODE, BEHIND: the node's queue may lack a tail, the rest is sound. Admission is fenced (ready mark
 * dropped, the reason recorded in META.fence) and the workers get a moment to write what it still
 * holds, so the rebuild that follows answers those tickets from their orders instead of refusing
 * them; only a lost tail is LOST_IN_FAILOVER. Every process that finds the sale stale or fenced
 * (the schedule of each worker, reconciliation, a web process's witness) comes through here, and the
 * rebuilds then take the sale's row lock one at a time: the first rebuilds, the others find it sound.
 * `seenEpoch`: the generation the caller judged stale; if a rebuild has written another since, the
 * sale is not fenced again. False then (nothing to wait for).
 */
async function drainBeforeRebuild(redis: RedisClient, activityId: string, seenEpoch: string | null, reason: StaleReason): Promise<boolean> {
  const keys = activityKeys(activityId);
  if (!(await withScripts(redis).flashFence(keys.meta, seenEpoch ?? "", reason))) return false;
  const started = Date.now();
  let progressAt = started;
  let lastServed = -1;
  while (Date.now() - progressAt < DRAIN_IDLE_MS && Date.now() - started < DRAIN_MAX_MS) {
    const [[seq, served, epoch], group] = await Promise.all([
      redis.hmget(keys.meta, META.seq, META.served, META.epoch),
      readWorkerGroup(redis, activityId),
    ]);
    // Rebuilt meanwhile by another process (it drained first): nothing left to wait for.
    if (epoch !== null) return true;
    if (Number(served) >= Number(seq) && (!group || (group.pending === 0 && group.lag === 0))) return true;
    if (Number(served) > lastServed) [lastServed, progressAt] = [Number(served), Date.now()];
    await new Promise((r) => setTimeout(r, 50));
  }
  log.warn({ component: "preheat", activityId }, "queue not drained before the rebuild; its queued tickets are answered from PostgreSQL");
  return true;
}

/**
 * Copies an activity's rules into Redis and, when its Redis state cannot be trusted (staleReason),
 * rebuilds that state from PostgreSQL first (rebuildSaleState). Idempotent: a sound state keeps its
 * counters, so a second preheat never adds units.
 */
export async function preheatActivity(prisma: PrismaClient, redis: RedisClient, activityId: string): Promise<PreheatResult> {
  const a = await prisma.activity.findUnique({ where: { id: activityId } });
  if (!a) return { ok: false, code: "NOT_FOUND" };
  const fresh = (await staleReason(prisma, redis, a.id)) !== null && (await rebuildSaleState(prisma, redis, a.id)) !== null;
  if (!fresh) {
    await writeRules(redis, a.id, rulesOf(a));
    await ensureWorkerGroup(redis, a.id);
    await publishChange(redis, a.id, "preheat");
  }
  const stock = (await readState(redis, a.id))?.stock ?? 0;
  return { ok: true, fresh, stock };
}

/** Due for preheat by the scheduler's rule: upcoming or live, and starting within the lead. */
export function isPreheatDue(a: Pick<Activity, "status" | "startAt">, now = Date.now()): boolean {
  return (a.status === "SCHEDULED" || a.status === "LIVE") && a.startAt.getTime() - now <= PREHEAT_LEAD_MS;
}

/** Preheats now if due, so a sale starting soon is ready at once; null when not due. */
export async function preheatIfDue(
  prisma: PrismaClient,
  redis: RedisClient,
  a: Pick<Activity, "id" | "status" | "startAt">,
): Promise<PreheatResult | null> {
  return isPreheatDue(a) ? preheatActivity(prisma, redis, a.id) : null;
}

const rulesOf = (a: Activity): MetaRules => ({
  status: a.status,
  startMs: a.startAt.getTime(),
  endMs: a.endAt.getTime(),
  limit: a.perUserLimit,
  mode: a.deductionMode,
  paused: a.paused,
  price: a.salePrice,
  paymentWindowSec: a.paymentWindowSec,
  // The gate: is a pass required for the buy token, and how hard is the sale's challenge.
  passRequired: a.humanCheck === "REQUIRED",
  captchaDifficulty: a.captchaDifficulty,
  refuseNonPayers: a.refuseNonPayers,
  prequeue: a.prequeueMinutes > 0,
});

export interface Rebuild {
  epoch: number;
  reason: StaleReason | "FORCED";
  /** Tickets Redis still held as queued, answered now from PostgreSQL. */
  confirmed: number;
  lost: number;
}

/**
 * Rebuilds a sale's Redis state from PostgreSQL (docs/durability.md, "Generations"), under the sale's
 * row lock so one process does it at a time and no worker batch commits meanwhile:
 *  1. fence: drop the ready mark (META.epoch), so admission answers UNAVAILABLE from here on;
 *  2. raise activities.redis_epoch: a worker still holding tickets of the old generation can no longer
 *     write them (lib/orders/persist.ts), so the answers given in step 3 stay true;
 *  3. answer every ticket Redis still holds as queued: its order (CONFIRMED), an order of its key
 *     (CONFIRMED, units back), or neither (REJECTED LOST_IN_FAILOVER);
 *  4. counters from PostgreSQL: stock, PAYMENT quota, units per user, idempotency keys, and the
 *     sequence continuing after the highest either side has handed out; a split counter is shared
 *     out over its segments again (the rebalance), pending reservations dropped; a sale's channel
 *     counters from their shares less what each channel's live orders hold (lib/channels);
 *  5. the new generation written last: admission resumes.
 * `onlyFrom`: rebuild only if Redis is still at that generation (a worker that saw a reused sequence
 * number), else only if staleReason finds a reason. `drain` (with onlyFrom), and always for NODE and BEHIND:
 * fence admission first and give the workers a moment to write what Redis still queues, so only
 * tickets Redis really lost are refused. Null when nothing needed doing.
 */
export async function rebuildSaleState(
  prisma: PrismaClient,
  redis: RedisClient,
  activityId: string,
  opts: { onlyFrom?: number; drain?: boolean } = {},
): Promise<Rebuild | null> {
  const keys = activityKeys(activityId);
  // Outside the row lock: the workers need it to write what the node still queues.
  // A node that lost a tail (BEHIND) or may have (NODE) still holds a queue worth writing first.
  if (opts.onlyFrom === undefined) {
    const pre = await judge(prisma, redis, activityId);
    if (pre.reason === "NODE" || pre.reason === "BEHIND") await drainBeforeRebuild(redis, activityId, pre.epoch, pre.reason);
  } else if (opts.drain) {
    // Still the generation the witness saw, or already fenced by another process: drain (too).
    const [e, fence] = await redis.hmget(keys.meta, META.epoch, META.fence);
    if (e === null ? fence !== null : Number(e) === opts.onlyFrom) await drainBeforeRebuild(redis, activityId, e ?? null, "BEHIND");
  }
  const done = await prisma.$transaction(
    async (tx) => {
      const [row] = await tx.$queryRaw<{ epoch: number }[]>`
        SELECT redis_epoch AS epoch FROM activities WHERE id = ${activityId} FOR UPDATE`;
      if (!row) return null;
      let reason: Rebuild["reason"] | null;
      if (opts.onlyFrom === undefined) reason = await staleReason(tx, redis, activityId);
      else {
        // Still that generation, or no ready mark (our own fence, or a rebuild cut short): rebuild.
        const e = await redis.hget(keys.meta, META.epoch);
        reason = e === null || Number(e) === opts.onlyFrom ? "FORCED" : null;
      }
      if (!reason) return null;

      await redis.hdel(keys.meta, META.epoch); // 1
      const epoch = row.epoch + 1; // 2 (updated_at untouched: this is no change of the sale itself)
      await tx.$executeRaw`UPDATE activities SET redis_epoch = ${epoch} WHERE id = ${activityId}`;
      const a = await tx.activity.findUniqueOrThrow({ where: { id: activityId } });

      // 3
      const entries = await readStream(redis, activityId);
      const states = await readTickets(redis, activityId, entries.map((e) => e.ticketId));
      const queued = entries.filter((e) => states.get(e.ticketId)?.state === TICKET_STATE.queued);
      const known = await resolveExisting(tx, activityId, queued);
      const answers: Outcome[] = queued.map(
        (e) => known.get(e.ticketId) ?? { ticketId: e.ticketId, status: "REJECTED", code: "LOST_IN_FAILOVER" },
      );
      for (let i = 0; i < answers.length; i += 1000) await finalizeTickets(redis, activityId, answers.slice(i, i + 1000));

      // 4
      const [buyers, orders, lifecycle, redisSeq, draw, channels] = await Promise.all([
        tx.activityBuyer.findMany({ where: { activityId, units: { gt: 0 } } }),
        tx.order.findMany({
          where: { activityId },
          select: { userId: true, idempotencyKey: true, ticketId: true, sequence: true },
        }),
        rebuildLifecycleState(tx, activityId, a.deductionMode, a.stock),
        redis.hget(keys.meta, META.seq),
        rebuildDrawState(tx, activityId),
        rebuildChannelState(tx, activityId, holdingStatuses(a.deductionMode), a.channelBorrowAfterSec),
      ]);
      // A drawn sequence number stays taken whether or not its shopper has bought (fair entry).
      const seq = orders.reduce((n, o) => Math.max(n, o.sequence), Math.max(Number(redisSeq ?? 0), draw?.maxSeq ?? 0));
      const pipe = redis.multi();
      pipe.hset(keys.meta, encodeRules(rulesOf(a)));
      pipe.hset(keys.meta, { [META.stock]: a.stock, [META.seq]: seq, [META.served]: seq - (draw?.gap ?? 0) });
      draw?.apply(pipe);
      // Reservations of a split stock between their steps are dropped with the users and keys they held.
      pipe.del(keys.users, keys.idem, keys.pending);
      if (buyers.length) pipe.hset(keys.users, Object.fromEntries(buyers.map((b) => [b.userId, b.units])));
      const idem = orders.filter((o) => o.idempotencyKey);
      for (let i = 0; i < idem.length; i += 5000) {
        pipe.hset(keys.idem, Object.fromEntries(idem.slice(i, i + 5000).map((o) => [`${o.userId}:${o.idempotencyKey}`, `${o.ticketId}|${o.sequence}`])));
      }
      pipe.hsetnx(keys.stats, STATS.confirmed, orders.length);
      // PAYMENT mode's quota, and what the order lifecycle has already moved (so it is not mirrored twice).
      lifecycle(pipe);
      if (a.stock <= 0) pipe.hsetnx(keys.meta, META.soldOutAt, Date.now());
      else pipe.hdel(keys.meta, META.soldOutAt);
      if (a.stockSegments <= 1) pipe.hdel(keys.meta, META.segments);
      // Channels never hold more than the stock left (PAYMENT mode's quota is above it): lib/channels.
      if (channels) channels(pipe, a.stock);
      else clearChannelState(pipe, activityId);
      await pipe.exec();
      // A split stock: the counter just written is shared out over its segments, from PostgreSQL's figure.
      if (a.stockSegments > 1) await writeSegments(redis, activityId, a.stockSegments, epoch);
      await ensureWorkerGroup(redis, activityId);
      // 5, with the node it was written to (a later failover or restart shows as another node: NODE);
      // the fence of the drain before it goes with it.
      const node = await readNodeId(redis, keys.meta);
      await redis.multi().hdel(keys.meta, META.fence).hset(keys.meta, { [META.node]: node, [META.epoch]: epoch }).exec();
      const lost = answers.filter((x) => x.status === "REJECTED").length;
      return { epoch, reason, confirmed: answers.length - lost, lost } satisfies Rebuild;
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
  if (done) {
    countRebuild(done.reason);
    // Generation 1 is the first preheat; any later one means Redis lost or rewound the sale's state.
    if (done.epoch === 1) log.info({ component: "preheat", activityId }, "sale preheated");
    else log.warn({ component: "preheat", activityId, ...done }, "sale's Redis state rebuilt from PostgreSQL");
    await publishChange(redis, activityId, "rebuild");
  }
  return done;
}
