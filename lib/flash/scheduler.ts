import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { PREHEAT_LEAD_MS, preheatActivity, staleReason } from "@/lib/flash/preheat";
import {
  ACTIVE_SET,
  RESERVATION_STALE_MS,
  expireActivity,
  publishChange,
  readState,
  retireActivity,
  sweepReservations,
  writeRules,
} from "@/lib/flash/store";
import { log } from "@/lib/log";
import { runDraw } from "@/lib/flash/fair-entry";

/**
 * One scheduler pass: preheats activities about to start, and moves SCHEDULED → LIVE → ENDED in
 * PostgreSQL and Redis when their times come. Idempotent; every worker runs it.
 */
export async function runSchedule(prisma: PrismaClient, redis: RedisClient, now = new Date()): Promise<string[]> {
  // The rule of isPreheatDue (lib/flash/preheat.ts), as a query.
  const due = await prisma.activity.findMany({
    where: {
      status: { in: ["SCHEDULED", "LIVE"] },
      startAt: { lte: new Date(now.getTime() + PREHEAT_LEAD_MS) },
    },
    select: { id: true, status: true, startAt: true, endAt: true, prequeueMinutes: true, stockSegments: true },
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
      await writeRules(redis, a.id, { status });
      await publishChange(redis, a.id, "status");
    }
    // Not preheated yet, or Redis came back empty or rewound: rebuilt from PostgreSQL before admission resumes.
    if (status !== "ENDED" && (await staleReason(prisma, redis, a.id))) {
      await preheatActivity(prisma, redis, a.id);
    }
    // Fair entry: at the start the pre-queue closes and its draw is made (admission waits for it).
    if (status === "LIVE" && a.prequeueMinutes > 0) await runDraw(prisma, redis, a.id, now);
    // A split stock: reservations whose web process died between its steps give their units back.
    if (a.stockSegments > 1) await sweepReservations(redis, a.id, a.stockSegments, now.getTime() - RESERVATION_STALE_MS);
    touched.push(a.id);
  }
  return touched;
}

/**
 * Housekeeping: a sale that is over (ENDED or CANCELLED in PostgreSQL) and drained (every admitted
 * ticket has its final answer) leaves the workers' active set, so idle workers stop polling its
 * stream, and its Redis keys get `ttlSec` to live. Ticket answers then come from PostgreSQL
 * (FlashCore.ticket). Keys first, then the set: a pass cut short in between is simply repeated.
 */
export async function housekeep(prisma: PrismaClient, redis: RedisClient, ttlSec: number): Promise<string[]> {
  const active = await redis.smembers(ACTIVE_SET);
  if (active.length === 0) return [];
  const over = await prisma.activity.findMany({
    where: { id: { in: active }, status: { in: ["ENDED", "CANCELLED"] } },
    select: { id: true },
  });
  const retired: string[] = [];
  for (const { id } of over) {
    const state = await readState(redis, id);
    if (state && state.served < state.admitted) continue;
    await expireActivity(redis, id, ttlSec);
    await retireActivity(redis, id);
    log.info({ component: "scheduler", activityId: id, ttlSec }, "sale retired: keys expire, workers stop reading it");
    retired.push(id);
  }
  return retired;
}
