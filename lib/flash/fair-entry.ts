import "server-only";
import { randomBytes } from "node:crypto";
import type { ChainableCommander } from "ioredis";
import type { Prisma, PrismaClient } from "@/lib/generated/prisma/client";
import type { RedisClient } from "@/lib/redis-connect";
import { commitmentOf, drawOrder, type PublishedDraw } from "@/lib/flash/draw-proof";
import { META, activityKeys, loadDraw, publishChange, readDrawBasis, readState, type DrawSlot } from "@/lib/flash/store";
import { env } from "@/lib/env";
import type { OwnEntry, PrequeueCode, PrequeueView } from "@/lib/flash/wire";
import { log } from "@/lib/log";

/*
 * Fair entry (docs/fair-entry.md): shoppers who join a sale's pre-queue in the last `prequeueMinutes`
 * before its start are admitted in a random order drawn at the start; later arrivals come first come,
 * first served behind them. The draw is committed to before the pre-queue opens (SHA-256 of a secret
 * seed), and the seed is revealed once it is made, so anyone can recompute it (lib/flash/draw-proof.ts).
 *
 * PostgreSQL keeps the seed, the entries and the drawn positions; the draw then reserves, in drawn
 * order, up to the per-user limit of units for each entry while the counter lasts, gives each such
 * entry the sequence number of its place, and writes that into Redis (lib/flash/draw-load.lua) for
 * admission (lib/flash/admission.lua) to honour for DRAW_HOLD_SEC.
 */

type Db = Pick<PrismaClient, "$queryRaw" | "$executeRaw" | "draw" | "drawEntry" | "activity" | "$transaction">;
type Tx = Prisma.TransactionClient;


export interface PrequeueWindow {
  opensAt: Date;
  closesAt: Date;
}

export function prequeueWindow(a: { startAt: Date; prequeueMinutes: number }): PrequeueWindow | null {
  if (a.prequeueMinutes <= 0) return null;
  return { opensAt: new Date(a.startAt.getTime() - a.prequeueMinutes * 60_000), closesAt: a.startAt };
}

/** The sale's draw row, made with a fresh secret seed the first time anyone needs its commitment. */
export async function ensureDraw(prisma: Pick<PrismaClient, "draw">, activityId: string) {
  const existing = await prisma.draw.findUnique({ where: { activityId } });
  if (existing) return existing;
  const seed = randomBytes(32).toString("hex");
  const commitment = await commitmentOf(seed);
  // Two first readers race: the insert that loses keeps the winner's seed (the one already published).
  await prisma.draw.createMany({ data: [{ activityId, seed, commitment }], skipDuplicates: true });
  return prisma.draw.findUniqueOrThrow({ where: { activityId } });
}

// A pseudonym for the public entry list: 12 random bytes, unlinkable to the shopper.
const newEntryId = () => randomBytes(12).toString("base64url");

const ownEntry = (e: { entryId: string; joinedAt: Date; position: number | null; sequence: number | null; reserved: number }): OwnEntry => ({
  entryId: e.entryId,
  joinedAt: e.joinedAt.toISOString(),
  position: e.position,
  sequence: e.sequence,
  reserved: e.reserved,
});

async function saleOf(prisma: Pick<PrismaClient, "activity">, activityId: string) {
  return prisma.activity.findUnique({
    where: { id: activityId },
    select: { id: true, status: true, startAt: true, prequeueMinutes: true },
  });
}

export async function prequeueView(
  prisma: Db,
  activityId: string,
  userId: string | null,
): Promise<{ ok: true; view: PrequeueView } | { ok: false; code: PrequeueCode }> {
  const a = await saleOf(prisma, activityId);
  if (!a) return { ok: false, code: "NOT_FOUND" };
  const window = prequeueWindow(a);
  if (!window) return { ok: false, code: "NO_PREQUEUE" };
  const d = await ensureDraw(prisma, a.id);
  const [entries, mine] = await Promise.all([
    prisma.drawEntry.count({ where: { activityId } }),
    userId ? prisma.drawEntry.findUnique({ where: { activityId_userId: { activityId, userId } } }) : null,
  ]);
  return {
    ok: true,
    view: {
      activityId,
      opensAt: window.opensAt.toISOString(),
      closesAt: window.closesAt.toISOString(),
      commitment: d.commitment,
      drawn: d.drawnAt !== null,
      holdUntil: d.holdUntil?.toISOString() ?? null,
      entries,
      entry: mine && ownEntry(mine),
    },
  };
}

/**
 * Joins the pre-queue (idempotent: a second join returns the first entry). Only inside the window and
 * before the draw: the join holds the draw row FOR SHARE, the draw takes it FOR UPDATE, so an entry
 * is either in the drawn list or refused PREQUEUE_CLOSED, never written behind the draw's back.
 */
export async function joinPrequeue(
  prisma: Db,
  activityId: string,
  userId: string,
  now = new Date(),
): Promise<{ ok: true; entry: OwnEntry; created: boolean } | { ok: false; code: PrequeueCode }> {
  const a = await saleOf(prisma, activityId);
  if (!a) return { ok: false, code: "NOT_FOUND" };
  const window = prequeueWindow(a);
  if (!window) return { ok: false, code: "NO_PREQUEUE" };
  if (a.status === "DRAFT" || now < window.opensAt) return { ok: false, code: "PREQUEUE_NOT_OPEN" };
  if (a.status !== "SCHEDULED" || now >= window.closesAt) return { ok: false, code: "PREQUEUE_CLOSED" };
  await ensureDraw(prisma, a.id);
  return prisma.$transaction(async (tx) => {
    const [d] = await tx.$queryRaw<{ drawnAt: Date | null; startAt: Date }[]>`
      SELECT d.drawn_at AS "drawnAt", a.start_at AS "startAt" FROM draws d JOIN activities a ON a.id = d.activity_id
      WHERE d.activity_id = ${activityId} FOR SHARE OF d`;
    // The start may have moved meanwhile (start early): the row read under the lock decides.
    if (!d || d.drawnAt || now >= d.startAt) return { ok: false as const, code: "PREQUEUE_CLOSED" as const };
    const inserted = await tx.drawEntry.createMany({
      data: [{ activityId, userId, entryId: newEntryId(), joinedAt: now }],
      skipDuplicates: true,
    });
    const e = await tx.drawEntry.findUniqueOrThrow({ where: { activityId_userId: { activityId, userId } } });
    return { ok: true as const, entry: ownEntry(e), created: inserted.count === 1 };
  });
}

/** The public record of the draw: the commitment always; seed, digest and the positioned list once drawn. */
export async function publishedDraw(prisma: Db, activityId: string): Promise<PublishedDraw | null> {
  const a = await saleOf(prisma, activityId);
  const window = a && prequeueWindow(a);
  if (!a || !window) return null;
  const d = await ensureDraw(prisma, a.id);
  const drawn = d.drawnAt !== null;
  const [count, entries] = await Promise.all([
    prisma.drawEntry.count({ where: { activityId } }),
    drawn
      ? prisma.drawEntry.findMany({ where: { activityId }, orderBy: { position: "asc" }, select: { entryId: true, position: true } })
      : [],
  ]);
  return {
    activityId,
    commitment: d.commitment,
    opensAt: window.opensAt.toISOString(),
    drawAt: window.closesAt.toISOString(),
    drawnAt: d.drawnAt?.toISOString() ?? null,
    // The secret stays on the server until the entry list is closed and drawn.
    seed: drawn ? d.seed : null,
    listDigest: d.listDigest,
    entries: entries.map((e) => ({ entryId: e.entryId, position: e.position ?? 0 })),
    entryCount: count,
  };
}

/** Units reserved in drawn order: each entry up to the limit while the counter lasts. */
export function reservations(left: number, limit: number, entries: number): number[] {
  const out: number[] = [];
  for (let i = 0, rest = Math.max(0, left); i < entries; i++) {
    const units = Math.min(limit, rest);
    out.push(units);
    rest -= units;
  }
  return out;
}

export type DrawOutcome = { drawn: boolean; loaded: "OK" | "DONE" | "NOT_READY" | "STALE"; entries: number; reserved: number };

/**
 * Makes the draw of a started sale with a pre-queue (once; later calls only make sure Redis has it):
 * closes the entry list, draws positions from the committed seed, reserves units and sequence numbers
 * in drawn order, records all of it in PostgreSQL, then loads it into Redis. Null: nothing to draw
 * (no pre-queue, not started, or not preheated yet: the scheduler preheats first).
 */
export async function runDraw(prisma: Db, redis: RedisClient, activityId: string, now = new Date()): Promise<DrawOutcome | null> {
  const a = await saleOf(prisma, activityId);
  if (!a || a.prequeueMinutes <= 0 || a.startAt > now || a.status === "DRAFT") return null;
  const state = await readState(redis, activityId);
  if (!state) return null;
  if (state.drawUntilMs !== null) return { drawn: false, loaded: "DONE", entries: 0, reserved: 0 };
  const basis = await readDrawBasis(redis, activityId);
  if (!basis) return null;
  await ensureDraw(prisma, activityId);
  const holdUntil = new Date(now.getTime() + env().DRAW_HOLD_SEC * 1000);

  const drawn = await prisma.$transaction(
    async (tx) => {
      const [d] = await tx.$queryRaw<{ seed: string; drawnAt: Date | null }[]>`
        SELECT seed, drawn_at AS "drawnAt" FROM draws WHERE activity_id = ${activityId} FOR UPDATE`;
      if (!d || d.drawnAt) return false;
      const entries = await tx.drawEntry.findMany({ where: { activityId }, select: { entryId: true, userId: true } });
      const { listDigest, order } = await drawOrder(d.seed, entries.map((e) => e.entryId));
      const units = reservations(basis.left, basis.limit, order.length);
      const positions = order.map((_, i) => i + 1);
      await tx.$executeRaw`
        UPDATE draw_entries e SET position = v.position, reserved = v.units,
               sequence = CASE WHEN v.units > 0 THEN ${basis.seq}::int + v.position ELSE NULL END
        FROM unnest(${order}::text[], ${positions}::int[], ${units}::int[]) AS v(entry_id, position, units)
        WHERE e.activity_id = ${activityId} AND e.entry_id = v.entry_id`;
      await tx.draw.update({ where: { activityId }, data: { drawnAt: now, listDigest, holdUntil } });
      return true;
    },
    { timeout: 60_000, maxWait: 30_000 },
  );

  const slots = await drawSlots(prisma, activityId);
  const d = await prisma.draw.findUniqueOrThrow({ where: { activityId }, select: { holdUntil: true } });
  const baseSeq = slots.length ? Math.min(...slots.map((s) => s.sequence)) - 1 : basis.seq;
  const reply = await loadDraw(redis, activityId, { holdUntilMs: d.holdUntil?.getTime() ?? holdUntil.getTime(), baseSeq, slots });
  if (reply.kind === "STALE") {
    log.error({ component: "fair-entry", activityId, baseSeq, seq: reply.seq }, "draw not loaded: Redis moved on since the draw read it");
  }
  if (reply.kind === "OK") await publishChange(redis, activityId, "draw");
  const reserved = slots.reduce((n, s) => n + s.units, 0);
  return { drawn, loaded: reply.kind, entries: slots.length, reserved };
}

/** The reserved entries as admission needs them (user, drawn sequence number, units), from PostgreSQL. */
async function drawSlots(prisma: Pick<PrismaClient, "drawEntry">, activityId: string): Promise<DrawSlot[]> {
  const rows = await prisma.drawEntry.findMany({
    where: { activityId, reserved: { gt: 0 }, sequence: { not: null } },
    orderBy: { position: "asc" },
    select: { userId: true, sequence: true, reserved: true },
  });
  return rows.map((r) => ({ userId: r.userId, sequence: r.sequence!, units: r.reserved }));
}

/**
 * Part of a rebuild of the sale's Redis state from PostgreSQL (lib/flash/preheat.ts): once drawn, the
 * draw's sequence numbers stay taken (`maxSeq`), entries that have not bought keep their reservation
 * while the hold lasts, and `gap` counts drawn numbers no order carries. Reads first, then returns the
 * writes to queue on the rebuild's MULTI. Null when the sale has no draw made.
 */
export async function rebuildDrawState(
  tx: Tx,
  activityId: string,
  now = Date.now(),
): Promise<{ maxSeq: number; gap: number; apply: (pipe: ChainableCommander) => void } | null> {
  const d = await tx.draw.findUnique({ where: { activityId }, select: { drawnAt: true, holdUntil: true } });
  if (!d?.drawnAt || !d.holdUntil) return null;
  const [slots, taken] = await Promise.all([
    drawSlots(tx, activityId),
    tx.order.findMany({ where: { activityId }, select: { sequence: true } }),
  ]);
  const used = new Set(taken.map((o) => o.sequence));
  const open = slots.filter((s) => !used.has(s.sequence));
  const holding = d.holdUntil.getTime() > now;
  const keys = activityKeys(activityId);
  return {
    maxSeq: Math.max(0, ...slots.map((s) => s.sequence)),
    gap: open.length,
    apply: (pipe) => {
      pipe.del(keys.draw);
      if (holding && open.length) pipe.hset(keys.draw, Object.fromEntries(open.map((s) => [s.userId, `${s.sequence}|${s.units}`])));
      pipe.hset(keys.meta, {
        [META.drawUntil]: d.holdUntil!.getTime(),
        [META.drawHeld]: holding ? open.reduce((n, s) => n + s.units, 0) : 0,
        [META.drawGap]: open.length,
      });
    },
  };
}
