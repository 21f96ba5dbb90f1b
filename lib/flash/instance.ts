import "server-only";
import { createSessionReader, type SessionReader } from "@/lib/auth/session-token";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { FlashCore, type OrderLookup, type RewindHandler, type SaleLookup, type ShopperArchive } from "@/lib/flash/core";
import { rebuildSaleState } from "@/lib/flash/preheat";
import { EVENTS_CHANNEL, decodeChange } from "@/lib/flash/store";
import { errorText, log } from "@/lib/log";
import { createRedisConnection, redis, type RedisClient } from "@/lib/redis";
import type { ActivityStateCache } from "@/lib/flash/activity-state";

interface Instance {
  core: FlashCore;
  sessions: SessionReader;
  /** Stops the metrics timer and the event subscription (tests; processes just exit). */
  close(): void;
}

/** The order a ticket became (PostgreSQL): the answer once a retired sale's ticket hashes expired. */
export const orderOfTicket: OrderLookup = async (ticketId) => {
  const o = await db().order.findUnique({
    where: { ticketId },
    select: { id: true, userId: true, sequence: true, payBy: true },
  });
  return o && { orderId: o.id, userId: o.userId, sequence: o.sequence, payBy: o.payBy };
};

/** A shopper's orders and units in a sale (PostgreSQL): /me once a retired sale's Redis keys expired. */
export const shopperArchive: ShopperArchive = async (activityId, userId) => {
  const a = await db().activity.findUnique({
    where: { id: activityId },
    select: {
      orders: { where: { userId }, orderBy: { sequence: "asc" }, select: { id: true, ticketId: true, sequence: true, quantity: true, payBy: true } },
      buyers: { where: { userId }, select: { units: true } },
    },
  });
  return a && {
    held: a.buyers[0]?.units ?? 0,
    orders: a.orders.map((o) => ({ orderId: o.id, ticketId: o.ticketId, sequence: o.sequence, quantity: o.quantity, payBy: o.payBy })),
  };
};

/** A sale's Redis generation and whether it takes buyers (PostgreSQL): for requests finding no Redis state. */
export const saleOfActivity: SaleLookup = async (activityId) => {
  const a = await db().activity.findUnique({ where: { id: activityId }, select: { redisEpoch: true, status: true } });
  return a && { epoch: a.redisEpoch, open: a.status === "SCHEDULED" || a.status === "LIVE" };
};

/**
 * Drops a cached state as soon as any process announces a change of it on EVENTS_CHANNEL (admin
 * edits, run controls, stock moves, the last unit admitted), so every web instance sees it within a
 * pub/sub hop instead of its next refresh. `sub` becomes a subscriber connection.
 */
export function followChanges(states: ActivityStateCache, sub: RedisClient): { sub: RedisClient; subscribed: Promise<unknown> } {
  const subscribed = sub.subscribe(EVENTS_CHANNEL);
  subscribed.catch((e: unknown) => log.error({ component: "flash", err: errorText(e) }, "change events: subscribe failed"));
  sub.on("message", (_channel: string, message: string) => {
    // An unreadable event drops every cached state: the safe side.
    states.invalidate(decodeChange(message)?.activityId);
  });
  return { sub, subscribed };
}

/** A rewind one web process noticed (FlashCore's sequence witness): rebuild, unless another process already did. */
// Drained first: what the rewound node still queues is written, not refused (only its lost tail is).
export const rebuildAfterRewind: RewindHandler = (activityId, epoch) =>
  rebuildSaleState(db(), redis(), activityId, { onlyFrom: epoch, drain: true });

const globalForFlash = globalThis as unknown as { flash?: Instance };

/** The process's flash core: one per process, listening for run-control events so its caches react at once. */
export function flash(): Instance {
  if (!globalForFlash.flash) {
    const e = env();
    const core = new FlashCore(redis(), e.FLASH_TOKEN_SECRET, {
      orderOf: orderOfTicket,
      archiveOf: shopperArchive,
      saleOf: saleOfActivity,
      onRewind: rebuildAfterRewind,
      replicas: { count: e.REDIS_WAIT_REPLICAS, timeoutMs: e.REDIS_WAIT_TIMEOUT_MS },
    });
    const { sub } = followChanges(core.states, createRedisConnection("flash-events"));
    const timer = setInterval(
      () => void core.flushMetrics().catch((e: unknown) => log.warn({ component: "flash", err: errorText(e) }, "metrics flush failed")),
      1_000,
    );
    timer.unref();
    globalForFlash.flash = {
      core,
      sessions: createSessionReader(env().NEXTAUTH_SECRET),
      close() {
        clearInterval(timer);
        sub.disconnect();
        globalForFlash.flash = undefined;
      },
    };
  }
  return globalForFlash.flash;
}
