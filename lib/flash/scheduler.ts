import "server-only";
import type { Redis } from "ioredis";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { EVENTS_CHANNEL, activityKeys } from "@/lib/flash/keys";
import { preheatActivity } from "@/lib/flash/preheat";

/** Activities are preheated this long before their start. */
export const PREHEAT_LEAD_MS = 10 * 60_000;

/**
 * One scheduler pass: preheats activities about to start, and moves SCHEDULED → LIVE → ENDED in
 * PostgreSQL and Redis when their times come. Idempotent; every worker runs it.
 */
export async function runSchedule(prisma: PrismaClient, redis: Redis, now = new Date()): Promise<string[]> {
  const due = await prisma.activity.findMany({
    where: {
      status: { in: ["SCHEDULED", "LIVE"] },
      startAt: { lte: new Date(now.getTime() + PREHEAT_LEAD_MS) },
    },
    select: { id: true, status: true, startAt: true, endAt: true },
  });
  const touched: string[] = [];
  for (const a of due) {
    let status = a.status;
    if (a.endAt <= now) status = "ENDED";
    else if (a.startAt <= now) status = "LIVE";
    if (status !== a.status) {
      // Conditional on what the decision was made from; not moved: a run control (cancel, end,
      // extend, start early) changed the activity meanwhile and has set Redis itself.
      const moved = await prisma.activity.updateMany({
        where: { id: a.id, status: a.status, startAt: a.startAt, endAt: a.endAt },
        data: { status },
      });
      if (moved.count === 0) continue;
      await redis.hset(activityKeys(a.id).meta, "status", status);
      await redis.publish(EVENTS_CHANNEL, JSON.stringify({ activityId: a.id, event: "status" }));
    }
    if (status !== "ENDED" && !(await redis.hexists(activityKeys(a.id).meta, "stock"))) {
      await preheatActivity(prisma, redis, a.id);
    }
    touched.push(a.id);
  }
  return touched;
}
