import "server-only";
import { createSessionReader, type SessionReader } from "@/lib/auth/session-token";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { FlashCore, type OrderLookup } from "@/lib/flash/core";
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

const globalForFlash = globalThis as unknown as { flash?: Instance };

/** The process's flash core: one per process, listening for run-control events so its caches react at once. */
export function flash(): Instance {
  if (!globalForFlash.flash) {
    const core = new FlashCore(redis(), env().FLASH_TOKEN_SECRET, { orderOf: orderOfTicket });
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
