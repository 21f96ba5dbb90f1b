import "server-only";
import { isCluster, serverFor, type RedisClient } from "@/lib/redis-connect";
import {
  META,
  SEGMENT,
  activityKeys,
  counterFor,
  homeSegment,
  splitAdmissionKeys,
  splitUnits,
} from "@/lib/flash/store/layout";
import { decodeMeta, type ActivityState } from "@/lib/flash/store/codec";
import { withScripts } from "@/lib/flash/store/scripts";

/*
 * Split stock (docs/architecture.md, "Split stock"): a sale's counter in S segments, segment 0 in
 * its meta hash, segments 1..S-1 each under its own hash tag {act:ID:s:K}, so a cluster spreads the
 * hot counter over its shards. The per-user limit and the idempotency key stay in one place (the
 * sale's own slot), so an admission of a split sale is three steps: reserve there (admission.lua,
 * 'R0'/'R'), take the units from a segment (segment.lua), commit or refuse there (admission.lua, 'C').
 */

/** The units (PAYMENT mode: orders) left in segments 1..S-1, in order; [] when not split. */
export async function readSegmentLeft(redis: RedisClient, activityId: string, segments: number): Promise<number[]> {
  const keys = activityKeys(activityId);
  const replies = await Promise.all(
    Array.from({ length: segments - 1 }, (_, i) => redis.hget(keys.segment(i + 1), SEGMENT.left)),
  );
  return replies.map((v) => Number(v ?? 0));
}

/** The activity's state with a split counter summed (one read for a sale that is not split). */
export async function readSplitState(redis: RedisClient, activityId: string, h: Record<string, string>): Promise<ActivityState | null> {
  const first = decodeMeta(activityId, h);
  if (!first || first.segments <= 1) return first;
  return decodeMeta(activityId, h, await readSegmentLeft(redis, activityId, first.segments));
}

export interface SplitAdmission {
  activityId: string;
  userId: string;
  quantity: number;
  idempotencyKey: string;
  nowMs: number;
  ticketId: string;
  epoch: number;
  segments: number;
  /**
   * Called with each sequence number as its reply arrives, before any other step of this request:
   * replies on a connection come in Redis's order, which the rewind witness (FlashCore) relies on.
   */
  onSequence?: (sequence: number) => void;
}

/** What admission.lua answers, with `soldOut` when this admission left every segment empty. */
export type AdmissionReply =
  | { kind: "OK"; ticketId: string; sequence: number; soldOut: boolean; drawn?: boolean }
  | { kind: "DUP"; ticketId: string; sequence: number }
  | { kind: "WAIT" }
  | { kind: "NO"; code: string };

/**
 * Admission of a split sale. 1: reserve the user's units and the key in the sale's slot (or admit at
 * once from segment 0 when it is the shopper's and has the units); 2: take the units from the
 * shopper's segment (by user hash), on empty from the others in turn; 3: commit (sequence, stream
 * entry, ticket) in the sale's slot, trying segment 0 last, or refuse and give the reservation back.
 * A commit that finds its reservation voided gives the segment's units back. What a crash between
 * the steps leaves, and who repairs it: docs/architecture.md.
 */
export async function admitSplit(redis: RedisClient, a: SplitAdmission): Promise<AdmissionReply> {
  const r = withScripts(redis);
  const keys = activityKeys(a.activityId);
  const argv = [a.userId, a.quantity, a.idempotencyKey, a.nowMs, a.ticketId, a.epoch] as const;
  const home = homeSegment(a.userId, a.segments);
  const seen = <T extends [string, string, number?, number?, number?, string?]>(reply: T): T => {
    // A drawn sequence number (fair entry) is below those handed out first come first served: no rewind.
    if (reply[0] === "OK" && reply[5] !== "D") a.onSequence?.(Number(reply[2]));
    return reply;
  };
  const first = await r.flashAdmitSplit(...splitAdmissionKeys(a.activityId, a.ticketId), ...argv, home === 0 ? "R0" : "R").then(seen);
  if (first[0] === "OK") return committed(redis, a, Number(first[2]), Number(first[4]) <= 0);
  if (first[0] === "DUP") return { kind: "DUP", ticketId: first[1], sequence: Number(first[2]) };
  if (first[0] === "WAIT") return { kind: "WAIT" };
  if (first[0] !== "RES") return { kind: "NO", code: first[1] };

  let from = 0;
  let segmentEmptied = false;
  let short = false;
  for (let i = 0; i < a.segments; i++) {
    const k = (home + i) % a.segments;
    if (k === 0) continue; // segment 0 is tried by the commit, in the sale's own slot
    const [kind, left] = await r.flashSegment(keys.segment(k), "take", a.ticketId, a.quantity, a.epoch);
    if (kind === "OK") {
      from = k;
      segmentEmptied = Number(left) <= 0;
      break;
    }
    if (kind === "STALE") {
      from = -1; // a rebuild rewrote the segments: the commit answers UNAVAILABLE (retry)
      break;
    }
    if (Number(left) > 0) short = true;
  }
  const refusal = from === -1 ? "UNAVAILABLE" : short ? "INSUFFICIENT_STOCK" : "SOLD_OUT";
  const done = await r.flashAdmitSplit(...splitAdmissionKeys(a.activityId, a.ticketId), ...argv, "C", from, refusal).then(seen);
  if (done[0] === "OK") return committed(redis, a, Number(done[2]), from === 0 ? Number(done[4]) <= 0 : segmentEmptied);
  // Voided meanwhile (GONE), or refused by a rebuild's fence: the segment's units go back.
  if (from > 0) await giveBack(redis, a.activityId, from, a.ticketId, a.quantity, a.epoch);
  if (done[0] === "GONE") return { kind: "NO", code: "UNAVAILABLE" };
  if (done[1] === "SOLD_OUT") await markSoldOut(redis, a.activityId, a.nowMs);
  return { kind: "NO", code: done[1] };
}

/** An admitted ticket; when its segment ran empty, is every segment empty now (the sell-out)? */
async function committed(redis: RedisClient, a: SplitAdmission, sequence: number, emptied: boolean): Promise<AdmissionReply> {
  let soldOut = false;
  // The last of concurrent takers to empty its segment sees every other one empty: each reads after its own take.
  if (emptied && (await readSplitLeft(redis, a.activityId, a.segments)) <= 0) {
    soldOut = true;
    await markSoldOut(redis, a.activityId, a.nowMs, sequence);
  }
  return { kind: "OK", ticketId: a.ticketId, sequence, soldOut };
}

/** Units (PAYMENT mode: orders) left over every segment. */
async function readSplitLeft(redis: RedisClient, activityId: string, segments: number): Promise<number> {
  const meta = activityKeys(activityId).meta;
  const [[mode, stock, quota], more] = await Promise.all([
    redis.hmget(meta, META.mode, META.stock, META.quota),
    readSegmentLeft(redis, activityId, segments),
  ]);
  const zero = counterFor(mode ?? "") === META.quota ? Number(quota ?? 0) : Number(stock ?? 0);
  return more.reduce((n, x) => n + x, zero);
}

/** Records the sell-out of a split sale (one segment alone cannot tell): when, and the ticket that took the last unit. */
export async function markSoldOut(redis: RedisClient, activityId: string, nowMs: number, sequence?: number): Promise<void> {
  const meta = activityKeys(activityId).meta;
  const tx = redis.multi().hsetnx(meta, META.soldOutAt, nowMs);
  if (sequence !== undefined) tx.hset(meta, META.lastUnit, `${sequence}|${nowMs}`);
  await tx.exec();
}

function giveBack(redis: RedisClient, activityId: string, segment: number, ticketId: string, quantity: number, epoch: number) {
  return withScripts(redis).flashSegment(activityKeys(activityId).segment(segment), "give", ticketId, quantity, epoch);
}

/** A reservation older than this has lost its web process (its steps take milliseconds): the sweep voids it. */
export const RESERVATION_STALE_MS = 5_000;

/**
 * Voids the split-stock reservations older than `olderThanMs` (their web process died or stalled
 * between its steps): the user's units and the key go back in the sale's slot first (after that
 * the commit cannot succeed), then every segment gives back what the ticket took there. Returns the
 * reservations voided. Run by the workers' schedule and by reconciliation.
 */
export async function sweepReservations(redis: RedisClient, activityId: string, segments: number, olderThanMs: number): Promise<number> {
  const r = withScripts(redis);
  const keys = activityKeys(activityId);
  const pending = await redis.hgetall(keys.pending);
  let voided = 0;
  for (const [ticketId, value] of Object.entries(pending)) {
    const qty = Number(value.split("|")[1]);
    if (!(await r.flashUnreserve(keys.users, keys.idem, keys.pending, ticketId, olderThanMs))) continue;
    voided++;
    for (let k = 1; k < segments; k++) await giveBack(redis, activityId, k, ticketId, qty, 0);
  }
  if (voided > 0) await redis.hdel(keys.meta, META.soldOutAt);
  return voided;
}

/**
 * The identity of the Redis node serving `key`, recorded with a generation (META.node, SEGMENT.node):
 * "master_replid|cluster node id" (the node id empty outside a cluster). The replication id changes
 * when the server restarts or a replica is promoted; the cluster node id stays the same across a
 * restart of the same server and is another when another server serves the slot (docs/durability.md,
 * "Restart or failover").
 */
export async function readNodeId(redis: RedisClient, key: string): Promise<string> {
  return nodeId(await readNode(redis, key));
}

const nodeId = (n: NodeFacts) => `${n.replid}|${n.myid}`;

interface NodeFacts {
  replid: string;
  /** The replication id this node continued from: a promoted replica's is its old master's. */
  replid2: string;
  myid: string;
  server: ReturnType<typeof serverFor>;
}

async function readNode(redis: RedisClient, key: string): Promise<NodeFacts> {
  // A cluster client learns its slot map with its first command: one routed by the key waits for it.
  if (isCluster(redis) && redis.status !== "ready") await redis.exists(key);
  const server = serverFor(redis, key);
  const [info, myid] = await Promise.all([server.info("replication"), isCluster(redis) ? server.call("CLUSTER", "MYID") : ""]);
  const field = (text: string, name: string) => new RegExp(`^${name}:(\\w+)`, "m").exec(text)?.[1] ?? "";
  return {
    replid: field(info, "master_replid"),
    replid2: field(info, "master_replid2"),
    myid: String(myid),
    server,
  };
}

/**
 * The node serving `key` against the identity recorded when the generation was written:
 *  same       the node the rebuild wrote to, never restarted since;
 *  moved      another server took over (a promoted replica: its replid2 is the recorded id, or in a
 *             cluster another node id): replication is asynchronous, it may lack a tail;
 *  restarted  the same server restarted on its own files, fsynced before every answer (AOF on,
 *             appendfsync always): nothing it acknowledged can be missing;
 *  rewindable the same server restarted without that guarantee (appendfsync everysec, or its policy
 *             unreadable): it may have lost its last writes (about a second, two when the disk is slow).
 */
export async function nodeVerdict(
  redis: RedisClient, key: string, recorded: string,
): Promise<{ verdict: "same" | "moved" | "restarted" | "rewindable"; current: string }> {
  const [replid = "", myid = ""] = recorded.split("|");
  const now = await readNode(redis, key);
  const is = (verdict: "same" | "moved" | "restarted" | "rewindable") => ({ verdict, current: nodeId(now) });
  if (now.replid === replid) return is("same");
  if (now.replid2 === replid) return is("moved");
  if (myid && myid !== now.myid) return is("moved");
  return is((await fsyncsAlways(now.server)) ? "restarted" : "rewindable");
}

/** AOF on with appendfsync always (CONFIG GET may be refused by a managed server: then not known, so no). */
async function fsyncsAlways(server: NodeFacts["server"]): Promise<boolean> {
  try {
    const [persistence, policy] = await Promise.all([server.info("persistence"), server.config("GET", "appendfsync")]);
    return /^aof_enabled:1/m.test(persistence) && (policy as string[])[1] === "always";
  } catch {
    return false;
  }
}

/**
 * Whether the node serving `key` may lack writes acknowledged since the identity `recorded` was
 * written (nodeVerdict: moved or rewindable). A restart that provably lost nothing is recorded as
 * the node's new identity, so the next check is one INFO again; `field` names where it is kept.
 */
export async function nodeMayHaveLost(redis: RedisClient, key: string, field: string, recorded: string): Promise<boolean> {
  const { verdict, current } = await nodeVerdict(redis, key, recorded);
  if (verdict === "restarted") await redis.hset(key, field, current);
  return verdict === "moved" || verdict === "rewindable";
}

/**
 * Segments (1..S-1) whose node may lack takes since the rebuild wrote them (nodeMayHaveLost): a
 * failover of their shard, or a restart that may have lost its last writes, while the sale's own
 * shard kept the tickets.
 */
export async function movedSegments(redis: RedisClient, activityId: string, segments: number): Promise<number[]> {
  const keys = activityKeys(activityId);
  const moved = await Promise.all(
    Array.from({ length: segments - 1 }, async (_, i) => {
      const seg = keys.segment(i + 1);
      const written = await redis.hget(seg, SEGMENT.node);
      return written !== null && (await nodeMayHaveLost(redis, seg, SEGMENT.node, written)) ? i + 1 : 0;
    }),
  );
  return moved.filter((k) => k > 0);
}

/** Reservations between their steps right now (0 once a sale's crowd has gone; the invariants expect it). */
export function countReservations(redis: RedisClient, activityId: string): Promise<number> {
  return redis.hlen(activityKeys(activityId).pending);
}

/**
 * Splits the counter a rebuild has just written into meta (stock, or PAYMENT mode's quota) over
 * `segments`: meta keeps segment 0's share, each other segment is rewritten with its share and the
 * new generation (its old tickets' marks dropped). Called by the rebuild before it writes the
 * generation, so no admission runs meanwhile. One segment: nothing to do (meta's field says 1).
 */
export async function writeSegments(redis: RedisClient, activityId: string, segments: number, epoch: number): Promise<void> {
  const keys = activityKeys(activityId);
  const [mode, stock, quota] = await redis.hmget(keys.meta, META.mode, META.stock, META.quota);
  const counter = counterFor(mode ?? "");
  const shares = splitUnits(Number((counter === META.quota ? quota : stock) ?? 0), segments);
  for (let k = 1; k < segments; k++) {
    const seg = keys.segment(k);
    const fields = { [SEGMENT.left]: shares[k]!, [SEGMENT.epoch]: epoch, [SEGMENT.node]: await readNodeId(redis, seg) };
    await redis.multi().del(seg).hset(seg, fields).exec();
  }
  await redis.hset(keys.meta, { [counter]: shares[0]!, [META.segments]: segments });
}
