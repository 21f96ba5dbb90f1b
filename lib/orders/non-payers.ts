import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { NON_PAYERS_KEY } from "@/lib/flash/store";
import { errorText, log } from "@/lib/log";

/** Adds the given users to the Redis set if PostgreSQL flags them (after an expiry counted against them). */
export async function publishFlags(prisma: PrismaClient, redis: RedisClient, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  const flagged = await prisma.user.findMany({
    where: { id: { in: [...new Set(userIds)] }, nonPayerSince: { not: null } },
    select: { id: true },
  });
  if (flagged.length) await redis.sadd(NON_PAYERS_KEY, ...flagged.map((u) => u.id));
}

/** Rebuilds the whole set from PostgreSQL (a worker's start; Redis may have lost it). */
export async function rebuildFlags(prisma: PrismaClient, redis: RedisClient): Promise<void> {
  const flagged = await prisma.user.findMany({ where: { nonPayerSince: { not: null } }, select: { id: true } });
  const pipe = redis.multi().del(NON_PAYERS_KEY);
  if (flagged.length) pipe.sadd(NON_PAYERS_KEY, ...flagged.map((u) => u.id));
  await pipe.exec();
}

/**
 * Process-local copy of the set, read at most every `ttlMs`: admission checks it without a round
 * trip. A flag or a cleared flag takes effect within that time.
 */
export class NonPayerCache {
  private ids = new Set<string>();
  private fetchedAt = 0;
  private pending: Promise<void> | null = null;

  constructor(
    private redis: RedisClient,
    private ttlMs = 2_000,
  ) {}

  async has(userId: string): Promise<boolean> {
    if (Date.now() - this.fetchedAt >= this.ttlMs) {
      this.pending ??= this.redis
        .smembers(NON_PAYERS_KEY)
        .then((ids) => {
          this.ids = new Set(ids);
          this.fetchedAt = Date.now();
        })
        .finally(() => (this.pending = null));
      // The first read waits; later ones answer from the copy while it refreshes.
      if (this.fetchedAt === 0) await this.pending;
      else
        this.pending.catch((e: unknown) =>
          log.warn({ err: errorText(e) }, "non-payer flags not refreshed; using the last copy"),
        );
    }
    return this.ids.has(userId);
  }
}
