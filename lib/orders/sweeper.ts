import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { env } from "@/lib/env";
import { errorText, log } from "@/lib/log";
import { closeSaleOrders, expireDue } from "@/lib/orders/lifecycle";
import { mirrorOwedStock } from "@/lib/orders/stock-mirror";
import { publishFlags, rebuildFlags } from "@/lib/orders/non-payers";
import { paymentProvider } from "@/lib/payments";
import { reconcile } from "@/lib/payments/reconcile";
import { reconcileSaleStates } from "@/lib/flash/reconcile";
import { runWaitlists } from "@/lib/flash/waitlist";
import { settleOwedRefunds } from "@/lib/payments/refunds";
import type { PaymentProvider } from "@/lib/payments/types";

/** Orders whose Redis mirror one pass of mirrorOwedStock handles; the sweep repeats until none is owed. */
const MIRROR_BATCH = 1000;

export interface SweepResult {
  expired: number;
  mirrored: number;
  refunded: number;
  /** Units offered to waitlisted shoppers in this pass. */
  offered: number;
}

/**
 * One pass of the expiry sweeper: closes every order past its pay-by in batches (each batch one
 * transaction that also returns its units), mirrors the moves into Redis, and pays refunds still owed.
 * Safe to run in every worker at once.
 */
export async function sweepOnce(
  prisma: PrismaClient,
  redis: RedisClient,
  opts: { now?: Date; provider?: PaymentProvider; maxBatches?: number } = {},
): Promise<SweepResult> {
  const e = env();
  let expired = 0;
  for (let i = 0; i < (opts.maxBatches ?? 20); i++) {
    const closed = await expireDue(prisma, {
      now: opts.now ?? new Date(),
      limit: e.EXPIRY_BATCH_SIZE,
      nonPayerThreshold: e.NONPAYER_THRESHOLD,
    });
    expired += closed.length;
    await publishFlags(
      prisma,
      redis,
      closed.map((c) => c.userId),
    );
    if (closed.length < e.EXPIRY_BATCH_SIZE) break;
  }
  // Orders written after their sale was cancelled (tickets still queued at the cancel) follow it.
  const late = await prisma.$queryRaw<{ id: string }[]>`
    SELECT a.id FROM activities a
    WHERE a.status = 'CANCELLED'
      AND EXISTS (SELECT 1 FROM orders o WHERE o.activity_id = a.id AND o.status IN ('PENDING_PAYMENT', 'PAID'))`;
  for (const { id } of late) await closeSaleOrders(prisma, id);
  let mirrored = 0;
  for (let i = 0, n = -1; i < (opts.maxBatches ?? 20) && n !== 0; i++) {
    n = await mirrorOwedStock(prisma, redis, { limit: MIRROR_BATCH });
    mirrored += n;
  }
  // Units that came back (the mirror above) go to the waitlists first; lapsed offers move on.
  const waitlist = await runWaitlists(prisma, redis, (opts.now ?? new Date()).getTime());
  const refunded = await settleOwedRefunds(opts.provider ?? paymentProvider());
  return { expired, mirrored, refunded, offered: waitlist.offered };
}

/** The sweeper (every second) and the scheduled reconciliations (payments, sale state), as one worker runs them. */
export function startSweeper(prisma: PrismaClient, redis: RedisClient, everyMs = 1_000): { stop(): void } {
  const sweepLog = log.child({ component: "sweeper" });
  let busy = false;
  let lastReconcile = Date.now();
  let lastStateReconcile = Date.now();
  void rebuildFlags(prisma, redis).catch((e: unknown) =>
    sweepLog.error({ err: errorText(e) }, "non-payer flags not rebuilt"),
  );
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      const r = await sweepOnce(prisma, redis);
      if (r.expired || r.refunded || r.offered) sweepLog.info(r, "swept");
      const every = env().RECONCILE_EVERY_SEC * 1000;
      if (every > 0 && Date.now() - lastReconcile >= every) {
        lastReconcile = Date.now();
        const run = await reconcile(paymentProvider(), { since: new Date(Date.now() - 2 * every) });
        sweepLog.info({ repaired: run.repaired, issues: run.issues.length }, "reconciled");
      }
      const stateEvery = env().STATE_RECONCILE_EVERY_SEC * 1000;
      if (stateEvery > 0 && Date.now() - lastStateReconcile >= stateEvery) {
        lastStateReconcile = Date.now();
        const run = await reconcileSaleStates(prisma, redis, { ttlSec: env().FLASH_KEYS_TTL_SEC });
        sweepLog.debug({ checked: run.checked, drift: run.drift.length }, "sale states reconciled");
      }
    })()
      .catch((e: unknown) => sweepLog.error({ err: errorText(e) }, "sweep failed; retried next second"))
      .finally(() => (busy = false));
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
