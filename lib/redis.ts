import "server-only";
import { env } from "@/lib/env";
import { withScripts } from "@/lib/flash/store/scripts";
import { connectRedis, type RedisClient } from "@/lib/redis-connect";

export type { RedisClient } from "@/lib/redis-connect";

// One connection per process (ioredis pipelines concurrent commands on it; on a cluster, one per
// master); hot-reload safe. REDIS_URL names one server or a cluster (lib/redis-connect.ts).
const globalForRedis = globalThis as unknown as { redis?: RedisClient };

export function redis(): RedisClient {
  // Scripts are defined before the first command: an auto-pipeline already open when a script is
  // defined lacks it ("pipeline[functionName] is not a function" under load).
  globalForRedis.redis ??= withScripts(
    connectRedis(env().REDIS_URL, { maxRetriesPerRequest: 2, enableAutoPipelining: true }),
  );
  return globalForRedis.redis;
}

/** A second connection for blocking commands (XREADGROUP BLOCK) or pub/sub, which would stall the shared one. */
export function createRedisConnection(name: string): RedisClient {
  return connectRedis(env().REDIS_URL, { connectionName: name, maxRetriesPerRequest: null });
}
