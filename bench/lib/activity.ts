import { randomBytes } from "node:crypto";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { ACTIVE_SET, EVENTS_CHANNEL, WORKER_GROUP, activityKeys } from "@/lib/flash/keys";
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
  opts: { stock: number; limit: number; leadMs: number; humanCheck?: boolean },
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
      status: "SCHEDULED",
      humanCheck: opts.humanCheck ? "REQUIRED" : "OFF",
    },
  });
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
    const keys = activityKeys(id);
    if (!(await redis().exists(keys.meta))) continue;
    const groups = (await redis()
      .xinfo("GROUPS", keys.stream)
      .catch(() => [])) as unknown[][];
    const busy = groups.some((g) => {
      const f = fields(g);
      return f.name === WORKER_GROUP && (Number(f.pending) > 0 || Number(f.lag ?? 0) > 0);
    });
    if (busy) continue;
    if (status !== "ENDED") await prisma.activity.update({ where: { id }, data: { status: "ENDED" } });
    await redis().srem(ACTIVE_SET, id);
    await redis().publish(EVENTS_CHANNEL, JSON.stringify({ activityId: id, event: "status" }));
    await dropKeys(id);
    retired++;
  }
  return retired;
}

async function dropKeys(activityId: string) {
  const keys = activityKeys(activityId);
  for (let start = "-"; ;) {
    const batch = await redis().xrange(keys.stream, start, "+", "COUNT", 5000);
    const tickets = batch.map(([, f]) => f[f.indexOf("t") + 1]).filter((t): t is string => Boolean(t));
    if (tickets.length) await redis().unlink(...tickets.map((t) => keys.ticket(t)));
    if (batch.length < 5000) break;
    start = `(${batch[batch.length - 1]![0]}`;
  }
  await redis().unlink(keys.meta, keys.users, keys.idem, keys.stream, keys.stats);
}

/** A Redis reply of alternating names and values as an object. */
export function fields(reply: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}
