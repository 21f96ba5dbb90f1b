import { randomBytes } from "node:crypto";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { forgetActivity, publishChange, readState, readWorkerGroup, retireActivity } from "@/lib/flash/store";
import { preheatActivity } from "@/lib/flash/preheat";

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
 */
export async function retireBenchActivities(only?: string[]): Promise<number> {
  const prisma = db();
  const rows = await prisma.activity.findMany({
    where: { slug: { startsWith: SLUG_PREFIX }, ...(only ? { id: { in: only } } : {}) },
    select: { id: true, status: true },
  });
  let retired = 0;
  for (const { id, status } of rows) {
    if (!(await readState(redis(), id))) continue;
    const g = await readWorkerGroup(redis(), id);
    if (g && (g.pending > 0 || (g.lag ?? 0) > 0)) continue;
    if (status !== "ENDED") await prisma.activity.update({ where: { id }, data: { status: "ENDED" } });
    await retireActivity(redis(), id);
    await publishChange(redis(), id, "status");
    await forgetActivity(redis(), id);
    retired++;
  }
  return retired;
}
