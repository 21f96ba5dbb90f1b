import { Redis } from "ioredis";
import { WORKER_GROUP, activityKeys } from "@/lib/flash/store/layout";

/**
 * Holds the order workers off one sale's queue, as workers far behind would be: its consumer group
 * is removed, so admission still queues tickets but no worker reads them. `release()` makes the
 * group again from the stream's start, and the workers answer every ticket in order.
 */
export async function holdQueue(activityId: string): Promise<{ release(): Promise<void> }> {
  const redis = localRedis();
  const stream = activityKeys(activityId).stream;
  await redis.xgroup("DESTROY", stream, WORKER_GROUP);
  return {
    async release() {
      await redis.xgroup("CREATE", stream, WORKER_GROUP, "0");
      redis.disconnect();
    },
  };
}

/** The suite's own Redis (REDIS_URL, set by npm test), refused unless it is on this machine. */
export function localRedis(): Redis {
  const url = process.env.REDIS_URL;
  if (!url || !["127.0.0.1", "localhost", "::1", "[::1]"].includes(new URL(url).hostname)) {
    throw new Error("REDIS_URL must be a local Redis: run the e2e suite through npm test");
  }
  return new Redis(url, { maxRetriesPerRequest: 2 });
}
