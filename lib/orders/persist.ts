import "server-only";
import { randomUUID } from "node:crypto";
import type { Prisma, PrismaClient } from "@/lib/generated/prisma/client";
import type { DeductionMode } from "@/lib/generated/prisma/enums";
import type { RejectionCode } from "@/lib/flash/codes";
import { FINAL_DUPLICATE, parseTicketId, spendsQuota, type StreamEntry } from "@/lib/flash/store";

/** An order request as admission appended it to the activity's stream. */
export type QueuedOrder = StreamEntry;

export interface ActivityTerms {
  id: string;
  salePrice: number;
  deductionMode: DeductionMode;
  paymentWindowSec: number;
  perUserLimit: number;
}

export type Outcome =
  | { ticketId: string; status: "CONFIRMED" | typeof FINAL_DUPLICATE; orderId: string; payBy: Date | null }
  | { ticketId: string; status: "REJECTED"; code: RejectionCode };

export interface BatchResult {
  outcomes: Outcome[];
  /**
   * A ticket carried a sequence number PostgreSQL already holds: Redis handed out numbers again, so
   * it was rewound (docs/durability.md). The caller has the sale's Redis state rebuilt (generation given).
   */
  rewoundAt: number | null;
}

type Tx = Prisma.TransactionClient;

class Refused extends Error {
  constructor(readonly code: RejectionCode) {
    super(code);
  }
}

/** The epoch a ticket id carries (lib/flash/store/layout.ts); -1 for an id that is not one. */
export const epochOf = (ticketId: string) => parseTicketId(ticketId)?.epoch ?? -1;

/**
 * Writes a batch of admitted tickets as orders in one transaction (docs/architecture.md, step 5).
 * Idempotent: the unique ticket id makes a replayed entry a no-op, and stock and per-user units
 * move only for the rows this call inserted, under conditional updates the database enforces.
 * If the batch as a whole breaks a rule, each ticket is retried alone so only the culprits are refused.
 * A unique-key conflict never fails the batch: it is answered for that ticket alone (see resolveExisting).
 */
export async function persistBatch(prisma: PrismaClient, terms: ActivityTerms, batch: QueuedOrder[]): Promise<BatchResult> {
  if (batch.length === 0) return { outcomes: [], rewoundAt: null };
  try {
    return await prisma.$transaction((tx) => writeOrders(tx, terms, batch));
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    if (batch.length === 1) {
      return { outcomes: [{ ticketId: batch[0]!.ticketId, status: "REJECTED", code: e.code }], rewoundAt: null };
    }
  }
  const result: BatchResult = { outcomes: [], rewoundAt: null };
  for (const order of batch) {
    const one = await persistBatch(prisma, terms, [order]);
    result.outcomes.push(...one.outcomes);
    result.rewoundAt ??= one.rewoundAt;
  }
  return result;
}

async function writeOrders(tx: Tx, terms: ActivityTerms, batch: QueuedOrder[]): Promise<BatchResult> {
  // The sale row, locked: a cancel or a rebuild of the Redis state (which raises redis_epoch under the
  // same lock, lib/flash/preheat.ts) is either wholly before this batch or wholly after it.
  const [sale] = await tx.$queryRaw<{ status: string; epoch: number }[]>`
    SELECT status::text AS status, redis_epoch AS epoch FROM activities WHERE id = ${terms.id} FOR UPDATE`;
  if (!sale) throw new Error(`activity ${terms.id} not in PostgreSQL`);
  // Tickets of an older Redis generation were already answered by the rebuild that ended it (it
  // found them lost, since they were not here): writing them now would contradict that answer.
  const refusal = (o: QueuedOrder): RejectionCode | null =>
    sale.status === "CANCELLED" ? "CANCELLED" : epochOf(o.ticketId) !== sale.epoch ? "LOST_IN_FAILOVER" : null;
  const refused = new Map<string, RejectionCode>();
  for (const o of batch) {
    const code = refusal(o);
    if (code) refused.set(o.ticketId, code);
  }
  const writable = batch.filter((o) => !refused.has(o.ticketId));

  const now = new Date();
  const payBy = new Date(now.getTime() + terms.paymentWindowSec * 1000);
  const ids = writable.map(() => randomUUID());
  // No conflict target: a row clashing on any unique key (ticket, sequence, idempotency key) is skipped
  // and answered below from what PostgreSQL holds, so one bad entry never fails the rest.
  const inserted = writable.length
    ? await tx.$queryRaw<{ ticket_id: string; id: string }[]>`
      INSERT INTO orders (id, ticket_id, sequence, user_id, activity_id, quantity, unit_price, amount, status, pay_by, idempotency_key, channel, created_at, updated_at)
      SELECT o.id, o.ticket_id, o.sequence, o.user_id, ${terms.id}, o.quantity, ${terms.salePrice},
             o.quantity * ${terms.salePrice}, 'PENDING_PAYMENT'::"OrderStatus", ${payBy}, o.idem, o.channel, ${now}, ${now}
      FROM unnest(${ids}::text[], ${writable.map((o) => o.ticketId)}::text[], ${writable.map((o) => o.sequence)}::int[],
                  ${writable.map((o) => o.userId)}::text[], ${writable.map((o) => o.quantity)}::int[],
                  ${writable.map((o) => o.idempotencyKey)}::text[], ${writable.map((o) => o.channel ?? null)}::text[])
           AS o(id, ticket_id, sequence, user_id, quantity, idem, channel)
      ON CONFLICT DO NOTHING
      RETURNING ticket_id, id`
    : [];
  const fresh = new Set(inserted.map((r) => r.ticket_id));
  const newOrders = writable.filter((o) => fresh.has(o.ticketId));

  if (newOrders.length > 0) {
    const units = newOrders.reduce((n, o) => n + o.quantity, 0);
    // PAYMENT mode takes stock at payment, not here.
    if (!spendsQuota(terms.deductionMode)) {
      const updated = await tx.$executeRaw`
        UPDATE activities SET stock = stock - ${units}, updated_at = now(),
               sold_out_at = CASE WHEN stock = ${units} THEN now() ELSE sold_out_at END
        WHERE id = ${terms.id} AND stock >= ${units}`;
      if (updated !== 1) throw new Refused("SOLD_OUT");
    }
    const perUser = new Map<string, number>();
    for (const o of newOrders) perUser.set(o.userId, (perUser.get(o.userId) ?? 0) + o.quantity);
    const users = [...perUser.keys()];
    const added = await tx.$executeRaw`
      INSERT INTO activity_buyers (activity_id, user_id, units)
      SELECT ${terms.id}, u.user_id, u.units
      FROM unnest(${users}::text[], ${users.map((u) => perUser.get(u)!)}::int[]) AS u(user_id, units)
      WHERE u.units <= ${terms.perUserLimit}
      ON CONFLICT (activity_id, user_id) DO UPDATE SET units = activity_buyers.units + EXCLUDED.units
      WHERE activity_buyers.units + EXCLUDED.units <= ${terms.perUserLimit}`;
    if (added !== users.length) throw new Refused("LIMIT_REACHED");
  }

  const byTicket = new Map<string, Outcome>();
  for (const r of inserted) byTicket.set(r.ticket_id, { ticketId: r.ticket_id, status: "CONFIRMED", orderId: r.id, payBy });
  // Skipped rows (a replay, a retried key, a reused sequence) and refused ones: PostgreSQL decides.
  const rest = batch.filter((o) => !fresh.has(o.ticketId));
  const existing = await resolveExisting(tx, terms.id, rest);
  let rewoundAt: number | null = null;
  for (const o of rest) {
    const known = existing.get(o.ticketId);
    if (known) byTicket.set(o.ticketId, known);
    else if (refused.has(o.ticketId)) byTicket.set(o.ticketId, { ticketId: o.ticketId, status: "REJECTED", code: refused.get(o.ticketId)! });
    else {
      // Neither its ticket nor its key is here, yet it was skipped: its sequence number is taken.
      rewoundAt = sale.epoch;
      byTicket.set(o.ticketId, { ticketId: o.ticketId, status: "REJECTED", code: "LOST_IN_FAILOVER" });
    }
  }
  return { outcomes: batch.map((o) => byTicket.get(o.ticketId)!), rewoundAt };
}

/**
 * What PostgreSQL already holds for tickets: the order of the ticket itself (an entry written by an
 * earlier, interrupted run: CONFIRMED), else the order of the same user's idempotency key on this
 * sale (a retry Redis no longer recognised: DUPLICATE, the earlier order). Absent: neither.
 */
export async function resolveExisting(tx: Tx, activityId: string, entries: QueuedOrder[]): Promise<Map<string, Outcome>> {
  const out = new Map<string, Outcome>();
  if (entries.length === 0) return out;
  const mine = await tx.order.findMany({
    where: { ticketId: { in: entries.map((o) => o.ticketId) } },
    select: { ticketId: true, id: true, payBy: true },
  });
  for (const r of mine) out.set(r.ticketId, { ticketId: r.ticketId, status: "CONFIRMED", orderId: r.id, payBy: r.payBy });
  const keyed = entries.filter((o) => !out.has(o.ticketId) && o.idempotencyKey);
  if (keyed.length === 0) return out;
  const earlier = await tx.order.findMany({
    where: { activityId, OR: keyed.map((o) => ({ userId: o.userId, idempotencyKey: o.idempotencyKey })) },
    select: { userId: true, idempotencyKey: true, id: true, payBy: true },
  });
  const byKey = new Map(earlier.map((r) => [`${r.userId}:${r.idempotencyKey}`, r]));
  for (const o of keyed) {
    const r = byKey.get(`${o.userId}:${o.idempotencyKey}`);
    if (r) out.set(o.ticketId, { ticketId: o.ticketId, status: FINAL_DUPLICATE, orderId: r.id, payBy: r.payBy });
  }
  return out;
}
