import "server-only";
import { createHash, randomBytes } from "node:crypto";
import type { ChainableCommander } from "ioredis";
import { LRUCache } from "lru-cache";
import type { RedisClient } from "@/lib/redis-connect";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { CHANNEL, META, FLAG_ON, activityKeys, publishChange, withScripts } from "@/lib/flash/store";
import type { ChannelHistory } from "@/lib/channels/split";

/*
 * Channel allocation (docs/channels.md): a sale's stock split into sales channels. PostgreSQL keeps
 * each channel's share (sale_channels) and which channel every order came through (orders.channel);
 * Redis keeps the live counters ({act:ID}:chan, CHANNEL fields) that admission.lua spends.
 */

type Tx = Pick<PrismaClient, "saleChannel" | "order">;

/** One channel of a sale as Redis has it. */
export interface ChannelCounters {
  channel: string;
  /** Units it may still admit from its own share. */
  left: number;
  /** Its share now (the admin's split, moved by rebalances and borrows). */
  share: number;
  /** Units admitted through it (from its share, the pool or a borrow). */
  admitted: number;
}

export interface ChannelState {
  channels: ChannelCounters[];
  /** Sum of every channel's units left, as admission keeps it. */
  alloc: number;
  /** ms after the start from which an empty channel borrows; null: never. */
  borrowAfterMs: number | null;
}

/** The sale's channel counters; null when the sale has no channels in Redis. */
export async function readChannelState(redis: RedisClient, activityId: string): Promise<ChannelState | null> {
  const h = await redis.hgetall(activityKeys(activityId).chan);
  if (Object.keys(h).length === 0) return null;
  const by = new Map<string, ChannelCounters>();
  const row = (c: string) => {
    let r = by.get(c);
    if (!r) by.set(c, (r = { channel: c, left: 0, share: 0, admitted: 0 }));
    return r;
  };
  for (const [f, v] of Object.entries(h)) {
    if (f.startsWith(CHANNEL.left)) row(f.slice(CHANNEL.left.length)).left = Number(v);
    else if (f.startsWith(CHANNEL.share)) row(f.slice(CHANNEL.share.length)).share = Number(v);
    else if (f.startsWith(CHANNEL.admitted)) row(f.slice(CHANNEL.admitted.length)).admitted = Number(v);
  }
  return {
    channels: [...by.values()].sort((a, b) => a.channel.localeCompare(b.channel)),
    alloc: Number(h[CHANNEL.alloc] ?? 0),
    borrowAfterMs: h[CHANNEL.after] === undefined ? null : Number(h[CHANNEL.after]),
  };
}

/**
 * What the rebuild from PostgreSQL writes for a sale's channels (lib/flash/preheat.ts, step 4): each
 * channel's units left = its recorded share less the units its live orders hold (a borrower's orders
 * count against the borrower), never below 0, and all of them together never above the counter
 * admission spends (`counterLeft`): cut from the largest first. So a rebuild can only move units
 * between a channel and the common pool, never make one. Null: the sale has no channels.
 */
export async function rebuildChannelState(
  tx: Tx,
  activityId: string,
  holding: string[],
  borrowAfterSec: number | null,
): Promise<((pipe: ChainableCommander, counterLeft: number) => void) | null> {
  const rows = await tx.saleChannel.findMany({ where: { activityId }, orderBy: { channel: "asc" } });
  if (rows.length === 0) return null;
  const [held, all] = await Promise.all([
    tx.order.groupBy({ by: ["channel"], where: { activityId, status: { in: holding as never } }, _sum: { quantity: true } }),
    tx.order.groupBy({ by: ["channel"], where: { activityId }, _sum: { quantity: true } }),
  ]);
  const heldBy = new Map(held.map((h) => [h.channel, h._sum.quantity ?? 0]));
  const admittedBy = new Map(all.map((h) => [h.channel, h._sum.quantity ?? 0]));
  return (pipe, counterLeft) => {
    const left = rows.map((r) => Math.max(0, r.share - (heldBy.get(r.channel) ?? 0)));
    let over = left.reduce((n, x) => n + x, 0) - Math.max(0, counterLeft);
    while (over > 0) {
      const i = left.indexOf(Math.max(...left));
      const cut = Math.min(over, left[i]!);
      left[i] = left[i]! - cut;
      over -= cut;
    }
    const k = activityKeys(activityId);
    pipe.del(k.chan);
    const fields: Record<string, number> = { [CHANNEL.alloc]: left.reduce((n, x) => n + x, 0) };
    rows.forEach((r, i) => {
      fields[CHANNEL.left + r.channel] = left[i]!;
      fields[CHANNEL.share + r.channel] = r.share;
      fields[CHANNEL.admitted + r.channel] = admittedBy.get(r.channel) ?? 0;
    });
    if (borrowAfterSec !== null) fields[CHANNEL.after] = borrowAfterSec * 1000;
    pipe.hset(k.chan, fields);
    pipe.hset(k.meta, META.channels, FLAG_ON);
  };
}

/** A sale without channels: nothing of them in Redis (the rebuild's other branch). */
export function clearChannelState(pipe: ChainableCommander, activityId: string): void {
  const k = activityKeys(activityId);
  pipe.del(k.chan);
  pipe.hdel(k.meta, META.channels);
}

export type RebalanceReply = { ok: true; fromLeft: number } | { ok: false; code: "NOT_ENOUGH" | "NO_CHANNEL"; fromLeft: number };

/**
 * An admin's rebalance: `units` of `from`'s unsold share move to `to`, atomically in Redis (the
 * moment that counts while the sale runs), then the shares in PostgreSQL, so a later rebuild keeps
 * them. A crash between the two: the rebuild restores the shares before the move (units go back
 * between channels; none is made, the counter bounds them all).
 */
export async function rebalanceChannels(
  prisma: PrismaClient, redis: RedisClient, activityId: string, from: string, to: string, units: number,
): Promise<RebalanceReply> {
  const k = activityKeys(activityId);
  const [kind, left] = await withScripts(redis).flashChannelMove(k.chan, from, to, units);
  if (kind === "NONE") return { ok: false, code: "NO_CHANNEL", fromLeft: 0 };
  if (kind === "NO") return { ok: false, code: "NOT_ENOUGH", fromLeft: Number(left) };
  // Both rows in one order (by channel name): two rebalances in opposite directions locking them in
  // their own orders deadlock on PostgreSQL, and the loser's shares would no longer follow Redis.
  const moves = [
    { channel: from, share: { decrement: units } },
    { channel: to, share: { increment: units } },
  ].sort((x, y) => (x.channel < y.channel ? -1 : 1));
  try {
    await prisma.$transaction(
      moves.map((m) => prisma.saleChannel.update({ where: { activityId_channel: { activityId, channel: m.channel } }, data: { share: m.share } })),
    );
  } catch (e) {
    // PostgreSQL did not follow: move the units back in Redis so both keep the same split.
    await withScripts(redis).flashChannelMove(k.chan, to, from, units).catch(() => undefined);
    throw e;
  }
  await publishChange(redis, activityId, "channels");
  return { ok: true, fromLeft: Number(left) };
}

/**
 * Each channel's history from the shop's past sales (orders.channel): units sold, conversion (paid
 * orders per order written, per mille) and average order value; channels never seen get zeros.
 */
export async function pastChannelHistory(prisma: PrismaClient, channels: string[], excludeActivityId?: string): Promise<ChannelHistory[]> {
  const where = { channel: { in: channels }, ...(excludeActivityId ? { activityId: { not: excludeActivityId } } : {}) };
  const [all, paid] = await Promise.all([
    prisma.order.groupBy({ by: ["channel"], where, _sum: { quantity: true, amount: true }, _count: { _all: true } }),
    prisma.order.groupBy({ by: ["channel"], where: { ...where, status: "PAID" }, _count: { _all: true } }),
  ]);
  const a = new Map(all.map((r) => [r.channel, r]));
  const p = new Map(paid.map((r) => [r.channel, r._count._all]));
  return channels.map((channel) => {
    const r = a.get(channel);
    const orders = r?._count._all ?? 0;
    return {
      channel,
      volume: r?._sum.quantity ?? 0,
      conversion: orders ? Math.round(((p.get(channel) ?? 0) * 1000) / orders) : 0,
      aov: orders ? Math.round((r?._sum.amount ?? 0) / orders) : 0,
    };
  });
}

// ---- Partner API keys -------------------------------------------------------------------------

/** Prefix of every partner key, so a leaked one is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = "fsk_";

/**
 * SHA-256, not bcrypt: the key is 256 random bits, so no guessing can use a fast hash, and every
 * partner request checks it (a slow hash would cost each one).
 */
export const hashApiKey = (key: string) => createHash("sha256").update(key).digest("hex");

/** Creates a partner's key; the key itself is returned once and never stored. */
export async function createApiKey(prisma: PrismaClient, channel: string, label: string): Promise<{ id: string; key: string }> {
  const key = API_KEY_PREFIX + randomBytes(32).toString("base64url");
  const row = await prisma.apiKey.create({ data: { channel, label, keyHash: hashApiKey(key), prefix: key.slice(0, 10) } });
  return { id: row.id, key };
}

/** Revokes a key: in this process at once, in the others within KEY_CACHE_MS. False: no such key or already revoked. */
export async function revokeApiKey(prisma: PrismaClient, id: string): Promise<boolean> {
  const done = (await prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } })).count === 1;
  keyCache.clear();
  return done;
}

/** How long a process trusts a key it has checked (a partner's crowd then costs PostgreSQL one read per key per second). */
export const KEY_CACHE_MS = 1_000;
// Valid keys only, by hash (a made-up key is read each time; the cache stays bounded either way).
const keyCache = new LRUCache<string, { id: string; channel: string }>({ max: 1_000, ttl: KEY_CACHE_MS });

/**
 * The partner behind a key, or null (unknown, revoked, malformed). One indexed read per key per
 * KEY_CACHE_MS in each process, so a revocation holds everywhere within a second.
 */
export async function verifyApiKey(prisma: PrismaClient, key: string | null | undefined): Promise<{ id: string; channel: string } | null> {
  if (!key || !key.startsWith(API_KEY_PREFIX) || key.length > 100) return null;
  const hash = hashApiKey(key);
  const hit = keyCache.get(hash);
  if (hit) return hit;
  const row = await prisma.apiKey.findUnique({ where: { keyHash: hash }, select: { id: true, channel: true, revokedAt: true } });
  if (!row || row.revokedAt) return null;
  const partner = { id: row.id, channel: row.channel };
  keyCache.set(hash, partner);
  return partner;
}
