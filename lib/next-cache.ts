import "server-only";
import { once } from "node:events";
import createRedisHandler from "@fortedigital/nextjs-cache-handler/redis-strings";
import { ioredisAdapter } from "@fortedigital/nextjs-cache-handler/helpers/ioredisAdapter";
import { env } from "@/lib/env";
import { errorText, log } from "@/lib/log";
import type { Redis } from "ioredis";
import { connectRedis, isCluster, type RedisClient } from "@/lib/redis-connect";

/*
 * Next.js's own cache (ISR pages, route responses, revalidatePath/revalidateTag) kept in Redis, so
 * every web instance of one build serves the same pages and an admin edit on one refreshes them all.
 * Loaded at run time by lib/next-cache-handler.mjs (the file next.config.ts names); the build and
 * `next dev` keep Next's cache in memory and never come here.
 */

/**
 * Prefix of every key the handler writes. One hash tag: the handler deletes several entries with one
 * UNLINK and keeps its tag maps in two hashes, which a Redis Cluster allows only within one slot.
 * The build id: two builds (a rolling deploy) never serve each other's pages, whose chunk names differ.
 */
export function nextCachePrefix(buildId: string | undefined): string {
  return `{next-cache:${buildId?.trim() || "unbuilt"}}:`;
}

/**
 * The global on which the web server hands redisCacheHandler to lib/next-cache-handler.mjs, which
 * Next.js loads as plain JavaScript and so cannot import this file in a process without a TypeScript
 * loader (production runs the bundle of scripts/build-server.mjs).
 */
export const NEXT_CACHE_FACTORY = Symbol.for("flash-sale.redisCacheHandler");

/** How long the first page waits for the connection; until it is up, pages render without the cache. */
const READY_WAIT_MS = 3000;
/** A cache read slower than this counts as a miss (the page renders) rather than holding the request. */
const COMMAND_TIMEOUT_MS = 2000;

let client: RedisClient | undefined;

/** The Redis handler of @fortedigital/nextjs-cache-handler on its own connection (ioredis, one server or a cluster). */
export async function redisCacheHandler(buildId: string | undefined) {
  const cacheLog = log.child({ component: "next-cache" });
  if (!client) {
    client = connectRedis(env().REDIS_URL, { connectionName: "next-cache", maxRetriesPerRequest: 1 });
    client.on("error", (e: unknown) => cacheLog.warn({ err: errorText(e) }, "next.js cache: redis error"));
  }
  const c = client;
  if (c.status !== "ready") {
    const timer = AbortSignal.timeout(READY_WAIT_MS);
    await once(c, "ready", { signal: timer }).catch(() =>
      cacheLog.warn({ waitedMs: READY_WAIT_MS }, "next.js cache: redis not ready; pages render uncached until it is"),
    );
  }
  cacheLog.info({ keyPrefix: nextCachePrefix(buildId), cluster: isCluster(c) }, "next.js cache shared through redis");
  return sharedCacheHandler(c, buildId);
}

/** The handler on a given connection (the tests give each simulated instance its own). */
export function sharedCacheHandler(c: RedisClient, buildId: string | undefined) {
  return createRedisHandler({
    // Typed for Redis; it calls only commands a Cluster client has too (get, set, hset, hscan, unlink…).
    client: ioredisAdapter(c as Redis),
    keyPrefix: nextCachePrefix(buildId),
    timeoutMs: COMMAND_TIMEOUT_MS,
    // SET then EXPIREAT (the default), not SET … EXAT: 3.3.0's ioredis adapter calls `set` unbound
    // when it passes options, which fails inside ioredis ("reading 'options'"), so no page was stored.
    keyExpirationStrategy: "EXPIREAT",
  });
}
