import "server-only";
import { Redis } from "ioredis";
import { env } from "@/lib/env";
import { withScripts } from "@/lib/flash/store/scripts";

// One connection per process (ioredis pipelines concurrent commands on it); hot-reload safe.
const globalForRedis = globalThis as unknown as { redis?: Redis };

export function redis(): Redis {
  // Scripts are defined before the first command: an auto-pipeline already open when a script is
  // defined lacks it ("pipeline[functionName] is not a function" under load).
  globalForRedis.redis ??= withScripts(
    new Redis(env().REDIS_URL, {
      maxRetriesPerRequest: 2,
      enableAutoPipelining: true,
    }),
  );
  return globalForRedis.redis;
}

/** A second connection for blocking commands (XREADGROUP BLOCK) or pub/sub, which would stall the shared one. */
export function createRedisConnection(name: string): Redis {
  return new Redis(env().REDIS_URL, { connectionName: name, maxRetriesPerRequest: null });
}
