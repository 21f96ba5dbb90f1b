import "server-only";
import { randomUUID } from "node:crypto";
import type { Activity, Prisma } from "@/lib/generated/prisma/client";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { errorText, log } from "@/lib/log";
import { preheatActivity, preheatIfDue, staleReason } from "@/lib/flash/preheat";
import { runDraw } from "@/lib/flash/fair-entry";
import {
  applyRestock,
  mirrorRules,
  spendsQuota,
  voidRestock,
  type MetaRules,
} from "@/lib/flash/store";
import { publishEvent } from "@/lib/admin/activities";
import { recordAudit, type AuditAction } from "@/lib/admin/audit";
import { badInput, fail, type AdminResult } from "@/lib/admin/results";
import type { ControlInput } from "@/lib/admin/schemas";
import { closeSaleOrders } from "@/lib/orders/lifecycle";
import { mirrorOwedStock, paymentQuota } from "@/lib/orders/stock-mirror";
import { paymentProvider } from "@/lib/payments";
import { settleOwedRefunds } from "@/lib/payments/refunds";

/** `warning`: the control applied, but a follow-up step (the preheat) failed; the admin should know. */
export type ControlResult = AdminResult<{ activityId: string; slug: string; event: string; stock?: number; warning?: string }>;

/*
 * Run controls change an activity in PostgreSQL (the source of truth) and in Redis (what admission
 * reads), record an audit entry, and announce the change on EVENTS_CHANNEL so every web process
 * drops its cached state.
 *
 * Order: PostgreSQL first, in one transaction with the audit entry and a conditional UPDATE that
 * only applies if the activity is still in a state the control is valid for (two admins, or the
 * scheduler, cannot both win). Then Redis, through a Lua script that only writes into a preheated
 * activity (a half-made meta hash would break admission; preheat copies the fields from
 * PostgreSQL later). If the Redis write fails after retries, the PostgreSQL change is compensated
 * (reverted, with its own audit entry) and Redis is set back to the old values as far as it
 * answers, so the two never disagree on a rule the control changed. Preheat re-syncs every rule
 * from PostgreSQL, which heals a write whose reply alone was lost.
 *
 * Restock is an increment, not a set, so it is made idempotent; see restock() below.
 */
export async function runControl(input: ControlInput, actorId: string): Promise<ControlResult> {
  const a = await db().activity.findUnique({ where: { id: input.activityId } });
  if (!a) return fail("NOT_FOUND", "saleMissing");
  const now = new Date();
  switch (input.action) {
    case "preheat":
      return preheat(a, actorId);
    case "schedule":
      if (a.status !== "DRAFT") return fail("CONFLICT", "onlyDraft");
      if (a.startAt <= now) return fail("CONFLICT", "startPastEdit");
      return setControl(a, actorId, "activity.schedule", {
        where: { status: "DRAFT", startAt: { gt: now } },
        data: { status: "SCHEDULED" },
        undo: { status: "DRAFT" },
        mirror: { status: "SCHEDULED" },
        mirrorUndo: { status: "DRAFT" },
        after: () => preheatIfDue(db(), redis(), { ...a, status: "SCHEDULED" }),
      });
    case "start":
      if (a.status !== "SCHEDULED" || a.startAt <= now)
        return fail("CONFLICT", "onlyNotStarted");
      return setControl(a, actorId, "activity.start", {
        where: { status: "SCHEDULED", startAt: a.startAt },
        data: { status: "LIVE", startAt: now },
        undo: { status: "SCHEDULED", startAt: a.startAt },
        mirror: { status: "LIVE", startMs: now.getTime() },
        mirrorUndo: { status: "SCHEDULED", startMs: a.startAt.getTime() },
        details: { from: a.startAt.toISOString(), to: now.toISOString() },
        // A sale must be in Redis to sell: preheat it now if the scheduler had not yet; a pre-queue's
        // draw is made at once too (fair entry), rather than at the scheduler's next pass.
        after: async () => {
          await preheatIfDue(db(), redis(), { ...a, status: "LIVE", startAt: now });
          await runDraw(db(), redis(), a.id, now);
        },
      });
    case "pause":
      if (!isRunning(a) || a.endAt <= now) return fail("CONFLICT", "onlyRunningPause");
      if (a.paused) return fail("CONFLICT", "alreadyPaused");
      return setControl(a, actorId, "activity.pause", {
        where: { status: { in: ["SCHEDULED", "LIVE"] }, endAt: { gt: now }, paused: false },
        data: { paused: true },
        undo: { paused: false },
        mirror: { paused: true },
        mirrorUndo: { paused: false },
      });
    case "resume":
      // An ended or cancelled sale stays as it stopped: resuming it would reopen nothing but confusion.
      if (!isRunning(a)) return fail("CONFLICT", "onlyRunningResume");
      if (!a.paused) return fail("CONFLICT", "notPaused");
      return setControl(a, actorId, "activity.resume", {
        where: { status: { in: ["SCHEDULED", "LIVE"] }, paused: true },
        data: { paused: false },
        undo: { paused: true },
        mirror: { paused: false },
        mirrorUndo: { paused: true },
      });
    case "extend": {
      if (!isRunning(a) || a.endAt <= now) return fail("CONFLICT", "onlyRunningExtend");
      if (input.endAt <= a.endAt) return badInput({ endAt: "newEndLater" });
      if (input.endAt <= now) return badInput({ endAt: "newEndPast" });
      return setControl(a, actorId, "activity.extend", {
        where: { status: { in: ["SCHEDULED", "LIVE"] }, endAt: a.endAt },
        data: { endAt: input.endAt },
        undo: { endAt: a.endAt },
        mirror: { endMs: input.endAt.getTime() },
        mirrorUndo: { endMs: a.endAt.getTime() },
        details: { from: a.endAt.toISOString(), to: input.endAt.toISOString() },
      });
    }
    case "end": {
      if (!isRunning(a) || a.startAt > now)
        return fail("CONFLICT", "onlyStartedEnd");
      // end_at > start_at is a CHECK constraint: a sale started this very millisecond ends one later.
      const endAt = new Date(Math.max(a.startAt.getTime() + 1, Math.min(a.endAt.getTime(), now.getTime())));
      return setControl(a, actorId, "activity.end", {
        where: { status: a.status },
        data: { status: "ENDED", endAt },
        undo: { status: a.status, endAt: a.endAt },
        mirror: { status: "ENDED", endMs: endAt.getTime() },
        mirrorUndo: { status: a.status, endMs: a.endAt.getTime() },
      });
    }
    case "cancel":
      if (a.status === "ENDED" || a.status === "CANCELLED") return fail("CONFLICT", "alreadyOver");
      return setControl(a, actorId, "activity.cancel", {
        where: { status: a.status },
        data: { status: "CANCELLED" },
        undo: { status: a.status },
        mirror: { status: "CANCELLED" },
        mirrorUndo: { status: a.status },
        after: () => closeOrders(a.id, actorId),
      });
    case "restock":
      return restock(a, input.units, actorId);
  }
}

const isRunning = (a: Activity) => a.status === "SCHEDULED" || a.status === "LIVE";
const controlLog = log.child({ component: "admin-controls" });

/** Retries a Redis step a few times: a blip should not undo an admin's change. */
/**
 * After a cancel: unpaid orders are cancelled and paid ones refunded, audited with the counts. (An
 * ended sale keeps its orders: unpaid ones run to their pay-by like after a natural end, and their
 * units then become unsold; DESIGN.md's lifecycle table.) Never throws: whatever is left, including
 * orders written later from tickets still queued at the cancel, the sweeper closes.
 */
async function closeOrders(activityId: string, actorId: string): Promise<void> {
  try {
    const r = await closeSaleOrders(db(), activityId);
    await recordAudit(db(), {
      actorId,
      action: "activity.cancel.orders",
      activityId,
      details: { cancelled: r.cancelled, refunded: r.refunded },
    });
    await mirrorOwedStock(db(), redis(), { orderIds: r.orders.map((o) => o.id) });
    await settleOwedRefunds(paymentProvider());
  } catch (e) {
    controlLog.error({ activityId, err: errorText(e) }, "closing the cancelled sale's orders failed; the sweeper finishes it");
  }
}

async function retry<T>(step: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await step();
    } catch (e) {
      if (i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 50 * 4 ** (i - 1)));
    }
  }
}

async function preheat(a: Activity, actorId: string): Promise<ControlResult> {
  if (!isRunning(a)) return fail("CONFLICT", "onlyRunningPreheat");
  const result = await preheatActivity(db(), redis(), a.id);
  if (!result.ok) return fail("NOT_FOUND", "saleMissing");
  await recordAudit(db(), {
    actorId,
    action: "activity.preheat",
    activityId: a.id,
    details: { fresh: result.fresh, stock: result.stock },
  });
  return { ok: true, activityId: a.id, slug: a.slug, event: "preheat", stock: result.stock };
}

interface SetControl {
  where: Prisma.ActivityWhereInput;
  data: Prisma.ActivityUpdateManyMutationInput;
  undo: Prisma.ActivityUpdateManyMutationInput;
  mirror: Partial<MetaRules>;
  mirrorUndo: Partial<MetaRules>;
  details?: Prisma.InputJsonValue;
  /** A follow-up once both stores agree; its failure does not undo the control but is reported. */
  after?: () => Promise<unknown>;
}

async function setControl(a: Activity, actorId: string, action: AuditAction, c: SetControl): Promise<ControlResult> {
  const applied = await db().$transaction(async (tx) => {
    const n = await tx.activity.updateMany({ where: { id: a.id, ...c.where }, data: c.data });
    if (n.count !== 1) return false;
    await recordAudit(tx, { actorId, action, activityId: a.id, details: c.details ?? {} });
    return true;
  });
  if (!applied) return fail("CONFLICT", "saleChanged");

  const r = redis();
  try {
    await retry(() => mirrorRules(r, a.id, c.mirror));
  } catch (e) {
    controlLog.error({ activityId: a.id, action, err: errorText(e) }, "Redis write failed; reverting the control");
    await db().$transaction(async (tx) => {
      await tx.activity.update({ where: { id: a.id }, data: c.undo });
      await recordAudit(tx, { actorId, action: `${action}.reverted`, activityId: a.id, details: { reason: "redis" } });
    });
    await mirrorRules(r, a.id, c.mirrorUndo).catch((err: unknown) =>
      controlLog.error({ activityId: a.id, action, err: errorText(err) }, "Redis undo failed; the next preheat re-syncs it"),
    );
    return fail("UNAVAILABLE", "redisDown");
  }
  let warning: string | undefined;
  try {
    await c.after?.();
  } catch (e) {
    controlLog.error({ activityId: a.id, action, err: errorText(e) }, "preheat after the control failed");
    warning = "redisCopyPending";
  }
  const event = action.slice("activity.".length);
  await publishEvent(a.id, event);
  return { ok: true, activityId: a.id, slug: a.slug, event, ...(warning ? { warning } : {}) };
}

/**
 * Restock: adds `units` sellable units in PostgreSQL (total_stock and stock) and Redis (meta stock).
 *
 * 1. The activity is preheated first if it was not: from then on no preheat writes its stock
 *    (HSETNX), so these two steps are the only ones to add the units, and a preheat racing with
 *    them cannot count them twice or miss them.
 * 2. PostgreSQL: one conditional UPDATE adding to both columns (only while scheduled or live and before its end),
 *    clearing sold_out_at, with the audit entry, in one transaction.
 * 3. Redis: restock.lua adds the units, clears soldOutAt and records the operation id atomically;
 *    the id makes retries safe (a lost reply is retried, never applied twice).
 * 4. If Redis still fails, the operation is given up by writing "void" under its id, which also
 *    stops a delayed copy from landing later. Written → it never applied: PostgreSQL is
 *    compensated (UPDATE … WHERE stock >= units, always true: Redis never offered these units, so
 *    no order took them). Already there → it did apply: success. Redis unreachable → PostgreSQL
 *    keeps the units: Redis may then offer fewer than PostgreSQL holds (an undersell the
 *    dashboard's conservation line shows), never more, so nothing is oversold.
 * 5. The event wakes the processes' sold-out flag (they refresh their cached state).
 */
async function restock(a: Activity, units: number, actorId: string): Promise<ControlResult> {
  if (!isRunning(a) || a.endAt <= new Date()) return fail("CONFLICT", "onlyRunningRestock");
  const r = redis();
  if (await staleReason(db(), r, a.id)) await preheatActivity(db(), r, a.id);

  const opId = randomUUID();
  const quota = spendsQuota(a.deductionMode) ? paymentQuota(units) : 0;
  const applied = await db().$transaction(async (tx) => {
    const n = await tx.$executeRaw`
      UPDATE activities
      SET total_stock = total_stock + ${units}, stock = stock + ${units}, sold_out_at = NULL, updated_at = now()
      WHERE id = ${a.id} AND status IN ('SCHEDULED', 'LIVE') AND end_at > now()`;
    if (n !== 1) return false;
    await recordAudit(tx, { actorId, action: "activity.restock", activityId: a.id, details: { units, opId } });
    return true;
  });
  if (!applied) return fail("CONFLICT", "saleChanged");

  let stock: number | undefined;
  try {
    const reply = await retry(() => applyRestock(r, a.id, opId, units, quota));
    if (reply.kind === "VOID") throw new Error("restock given up");
    // Redis lost the activity in between: the preheat copies PostgreSQL's stock, which has the units.
    stock =
      reply.kind === "NOT_PREHEATED"
        ? await preheatActivity(db(), r, a.id).then((p) => (p.ok ? p.stock : undefined))
        : reply.stock;
  } catch (e) {
    controlLog.error({ activityId: a.id, opId, err: errorText(e) }, "restock in Redis failed; giving it up");
    const gaveUp = await voidRestock(r, a.id, opId).catch((err: unknown) => {
      controlLog.error({ activityId: a.id, opId, err: errorText(err) }, "giving the restock up failed");
      return null;
    });
    if (gaveUp === true) {
      await db().$transaction(async (tx) => {
        await tx.$executeRaw`
          UPDATE activities SET total_stock = total_stock - ${units}, stock = stock - ${units}, updated_at = now()
          WHERE id = ${a.id} AND stock >= ${units}`;
        await recordAudit(tx, {
          actorId,
          action: "activity.restock.reverted",
          activityId: a.id,
          details: { units, opId },
        });
      });
      return fail("UNAVAILABLE", "restockUndone");
    }
    if (gaveUp === null) {
      await recordAudit(db(), {
        actorId,
        action: "activity.restock.unconfirmed",
        activityId: a.id,
        details: { units, opId },
      });
      return fail(
        "UNAVAILABLE",
        "restockUnconfirmed",
      );
    }
  }
  await publishEvent(a.id, "restock");
  return { ok: true, activityId: a.id, slug: a.slug, event: "restock", ...(stock !== undefined ? { stock } : {}) };
}
