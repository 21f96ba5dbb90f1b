import "server-only";
import { env } from "@/lib/env";
import { withScripts } from "@/lib/flash/store/scripts";
import { errorText, log } from "@/lib/log";
import { connectRedis, type RedisClient } from "@/lib/redis-connect";

export type { RedisClient } from "@/lib/redis-connect";

// One connection per process (ioredis pipelines concurrent commands on it; on a cluster, one per
// master); hot-reload safe. REDIS_URL names one server or a cluster (lib/redis-connect.ts).
const globalForRedis = globalThis as unknown as { redis?: RedisClient };

const logger = log.child({ component: "redis" });

/**
 * ioredis retries by itself; without a listener every failed attempt prints "Unhandled error event".
 * One line when the connection is lost and one when it is back, whatever the number of retries between.
 */
function watched(client: RedisClient, name: string): RedisClient {
  let down = false;
  client.on("error", (e: unknown) => {
    if (down) return;
    down = true;
    logger.warn({ connection: name, err: errorText(e) }, "redis connection lost; retrying");
  });
  client.on("ready", () => {
    if (!down) return;
    down = false;
    logger.info({ connection: name }, "redis connection back");
  });
  return client;
}

export function redis(): RedisClient {
  // Scripts are defined before the first command: an auto-pipeline already open when a script is
  // defined lacks it ("pipeline[functionName] is not a function" under load).
  globalForRedis.redis ??= withScripts(
    watched(connectRedis(env().REDIS_URL, { maxRetriesPerRequest: 2, enableAutoPipelining: true }), "shared"),
  );
  return globalForRedis.redis;
}

/** A second connection for blocking commands (XREADGROUP BLOCK) or pub/sub, which would stall the shared one. */
export function createRedisConnection(name: string): RedisClient {
  return watched(connectRedis(env().REDIS_URL, { connectionName: name, maxRetriesPerRequest: null }), name);
}
