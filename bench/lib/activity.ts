import { randomBytes } from "node:crypto";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { forgetActivity, publishChange, readState, readWorkerGroup, retireActivity } from "@/lib/flash/store";
import { preheatActivity } from "@/lib/flash/preheat";
import { parseSettings } from "@/lib/env";

export interface BenchActivity {
  id: string;
  slug: string;
  startMs: number;
  stock: number;
  limit: number;
}

const SLUG_PREFIX = "bench-";

/**
 * A sale of its own for each load phase, preheated into Redis like the scheduler does, starting
 * `leadMs` from now so the crowd can be released at the start.
 */
export async function createBenchActivity(
  kind: string,
  opts: {
    stock: number; limit: number; leadMs: number; humanCheck?: boolean; segments?: number;
    /** Fair entry: a pre-queue of this many minutes before the start (docs/fair-entry.md). */
    prequeueMinutes?: number;
    /** Channels (docs/channels.md): each channel's share of the stock. */
    channels?: Record<string, number>;
  },
): Promise<BenchActivity> {
  const prisma = db();
  const product = await prisma.product.upsert({
    where: { slug: "bench-product" },
    update: {},
    create: { slug: "bench-product", name: "Bench product", listPrice: 10000, description: "Made by npm run bench." },
  });
  const slug = `${SLUG_PREFIX}${kind}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const startAt = new Date(Date.now() + opts.leadMs);
  const a = await prisma.activity.create({
    data: {
      slug,
      title: `Bench ${kind}`,
      productId: product.id,
      salePrice: 100,
      startAt,
      endAt: new Date(startAt.getTime() + 3600_000),
      totalStock: opts.stock,
      stock: opts.stock,
      perUserLimit: opts.limit,
      stockSegments: opts.segments ?? 1,
      status: "SCHEDULED",
      humanCheck: opts.humanCheck ? "REQUIRED" : "OFF",
      // The same synthetic shoppers buy in every run and leave their orders unpaid: not non-payers.
      refuseNonPayers: false,
      // Unpaid bench orders never expire within a session of runs: expiring them returned stock to retired
      // sales while later runs measured (the sweeper's work, and a sale touched again re-entered the
      // workers' reconciliation window with its keys dropped: a rebuild from PostgreSQL, see below).
      paymentWindowSec: 30 * 86_400,
      prequeueMinutes: opts.prequeueMinutes ?? 0,
    },
  });
  if (opts.channels) {
    await prisma.saleChannel.createMany({ data: Object.entries(opts.channels).map(([channel, share]) => ({ activityId: a.id, channel, share })) });
  }
  const pre = await preheatActivity(prisma, redis(), a.id);
  if (!pre.ok || pre.stock !== opts.stock) throw new Error(`preheat of ${slug} failed: ${JSON.stringify(pre)}`);
  return { id: a.id, slug, startMs: startAt.getTime(), stock: opts.stock, limit: opts.limit };
}

/**
 * Ends the bench's own sales once their queue is empty and drops their Redis keys (PostgreSQL keeps
 * the orders). The workers poll every active activity, and the durable Redis would otherwise grow by
 * every run's tickets and rewrite its AOF during later runs: both would slow down the next run.
 *
 * A retired sale is also moved out of the workers' reconciliation, which checks every sale over for
 * less than FLASH_KEYS_TTL_SEC (its keys should still be there: lib/flash/reconcile.ts): its times go
 * back beyond that window, and its unpaid orders do not expire meanwhile (paymentWindowSec above), which
 * would touch it again. Without it every later run's workers found the dropped keys missing and
 * rebuilt each such sale from PostgreSQL, all its orders read, beside the measured sale (after a
 * morning of runs: 27-35 rebuilds a run; admit with one worker fell from 1,478-2,101 to 677-1,062 orders/s).
 */
export async function retireBenchActivities(only?: string[]): Promise<number> {
  const prisma = db();
  const windowSec = parseSettings().FLASH_KEYS_TTL_SEC + 3600;
  const rows = await prisma.activity.findMany({
    where: { slug: { startsWith: SLUG_PREFIX }, ...(only ? { id: { in: only } } : {}) },
    select: { id: true, status: true, updatedAt: true },
  });
  let retired = 0;
  for (const { id, status, updatedAt } of rows) {
    const state = await readState(redis(), id);
    if (state) {
      const g = await readWorkerGroup(redis(), id);
      if (g && (g.pending > 0 || (g.lag ?? 0) > 0)) continue;
    } else if (status === "ENDED" && updatedAt.getTime() < Date.now() - windowSec * 1000) continue;
    await prisma.$executeRaw`
      UPDATE activities SET status = 'ENDED'::"ActivityStatus",
             start_at = now() - make_interval(secs => ${windowSec + 60}::double precision),
             end_at = now() - make_interval(secs => ${windowSec}::double precision),
             updated_at = now() - make_interval(secs => ${windowSec}::double precision)
      WHERE id = ${id}`;
    if (!state) continue;
    await retireActivity(redis(), id);
    await publishChange(redis(), id, "status");
    await forgetActivity(redis(), id);
    retired++;
  }
  return retired;
}
