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
  const now = new Date();
  const payBy = new Date(now.getTime() + terms.paymentWindowSec * 1000);
  // One statement for the whole batch, not four: each query costs the worker a round trip through
  // Prisma's interpreter and the driver (npm run bench:persist, worker CPU per order: 10 a batch
  // 203-220 µs → 120-176 µs, 50 a batch 55-62 → 39-40; the database's the same). In it, in data-flow order:
  // - sale: the sale row, locked. A cancel or a rebuild of the Redis state (which raises redis_epoch
  //   under the same lock, lib/flash/preheat.ts) is either wholly before this batch or wholly after it.
  // - ins: the orders, except tickets of a cancelled sale or of an older Redis generation: those were
  //   already answered by the rebuild that ended it (it found them lost, since they were not here), and
  //   writing them now would contradict that answer. No conflict target: a row clashing on any unique
  //   key (ticket, sequence, idempotency key) is skipped and answered below from what PostgreSQL holds,
  //   so one bad entry never fails the rest.
  // - stock: the units of the rows inserted, taken only if the sale still has them (PAYMENT mode takes
  //   stock at payment, not here); buyers: each user's units, only within the per-user limit. Either
  //   one short, and the caller's transaction is rolled back (Refused).
  const spends = spendsQuota(terms.deductionMode);
  const rows = await tx.$queryRaw<{ status: string | null; epoch: number | null; stock_ok: boolean; users: number; added: number; inserted: [string, string][] | null }[]>`
    WITH sale AS (
      SELECT status::text AS status, redis_epoch AS epoch FROM activities WHERE id = ${terms.id} FOR UPDATE
    ), ins AS (
      INSERT INTO orders (id, ticket_id, sequence, user_id, activity_id, quantity, unit_price, amount, status, pay_by, idempotency_key, channel, created_at, updated_at)
      SELECT o.id, o.ticket_id, o.sequence, o.user_id, ${terms.id}, o.quantity, ${terms.salePrice},
             o.quantity * ${terms.salePrice}, 'PENDING_PAYMENT'::"OrderStatus", ${payBy}, o.idem, o.channel, ${now}, ${now}
      FROM unnest(${batch.map(() => randomUUID())}::text[], ${batch.map((o) => o.ticketId)}::text[], ${batch.map((o) => o.sequence)}::int[],
                  ${batch.map((o) => o.userId)}::text[], ${batch.map((o) => o.quantity)}::int[],
                  ${batch.map((o) => o.idempotencyKey)}::text[], ${batch.map((o) => o.channel ?? null)}::text[],
                  ${batch.map((o) => epochOf(o.ticketId))}::int[])
           AS o(id, ticket_id, sequence, user_id, quantity, idem, channel, epoch)
      JOIN sale s ON s.status <> 'CANCELLED' AND s.epoch = o.epoch
      ON CONFLICT DO NOTHING
      RETURNING ticket_id, id, user_id, quantity
    ), units AS (
      SELECT coalesce(sum(quantity), 0)::int AS n FROM ins
    ), stock AS (
      UPDATE activities a SET stock = a.stock - u.n, updated_at = now(),
             sold_out_at = CASE WHEN a.stock = u.n THEN now() ELSE a.sold_out_at END
      FROM units u
      WHERE a.id = ${terms.id} AND u.n > 0 AND NOT ${spends}::boolean AND a.stock >= u.n
      RETURNING 1
    ), per_user AS (
      SELECT user_id, sum(quantity)::int AS units FROM ins GROUP BY user_id
    ), buyers AS (
      INSERT INTO activity_buyers (activity_id, user_id, units)
      SELECT ${terms.id}, p.user_id, p.units FROM per_user p WHERE p.units <= ${terms.perUserLimit}
      ON CONFLICT (activity_id, user_id) DO UPDATE SET units = activity_buyers.units + EXCLUDED.units
      WHERE activity_buyers.units + EXCLUDED.units <= ${terms.perUserLimit}
      RETURNING 1
    )
    SELECT (SELECT status FROM sale) AS status, (SELECT epoch FROM sale) AS epoch,
           (u.n = 0 OR ${spends}::boolean OR EXISTS (SELECT 1 FROM stock)) AS stock_ok,
           (SELECT count(*)::int FROM per_user) AS users, (SELECT count(*)::int FROM buyers) AS added,
           (SELECT json_agg(json_build_array(ticket_id, id)) FROM ins) AS inserted
    FROM units u`;
  const r = rows[0];
  if (!r || r.status === null || r.epoch === null) throw new Error(`activity ${terms.id} not in PostgreSQL`);
  if (!r.stock_ok) throw new Refused("SOLD_OUT");
  if (r.added !== r.users) throw new Refused("LIMIT_REACHED");

  // The same rule the statement applied, for the tickets it left out.
  const sale = { status: r.status, epoch: r.epoch };
  const refusal = (o: QueuedOrder): RejectionCode | null =>
    sale.status === "CANCELLED" ? "CANCELLED" : epochOf(o.ticketId) !== sale.epoch ? "LOST_IN_FAILOVER" : null;
  const byTicket = new Map<string, Outcome>();
  for (const [ticketId, orderId] of r.inserted ?? []) byTicket.set(ticketId, { ticketId, status: "CONFIRMED", orderId, payBy });
  // Skipped rows (a replay, a retried key, a reused sequence) and refused ones: PostgreSQL decides.
  const rest = batch.filter((o) => !byTicket.has(o.ticketId));
  const existing = await resolveExisting(tx, terms.id, rest);
  let rewoundAt: number | null = null;
  for (const o of rest) {
    const known = existing.get(o.ticketId);
    const code = refusal(o);
    if (known) byTicket.set(o.ticketId, known);
    else if (code) byTicket.set(o.ticketId, { ticketId: o.ticketId, status: "REJECTED", code });
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
