import "server-only";
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import type { DeductionMode } from "@/lib/generated/prisma/enums";
import type { RejectionCode } from "@/lib/flash/codes";
import { spendsQuota, type StreamEntry } from "@/lib/flash/store";

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
  | { ticketId: string; status: "CONFIRMED"; orderId: string; payBy: Date | null }
  | { ticketId: string; status: "REJECTED"; code: RejectionCode };

class Refused extends Error {
  constructor(readonly code: RejectionCode) {
    super(code);
  }
}

/**
 * Writes a batch of admitted tickets as orders in one transaction (docs/architecture.md, step 5).
 * Idempotent: the unique ticket id makes a replayed entry a no-op, and stock and per-user units
 * move only for the rows this call inserted, under conditional updates the database enforces.
 * If the batch as a whole breaks a rule, each ticket is retried alone so only the culprits are refused.
 */
export async function persistBatch(prisma: PrismaClient, terms: ActivityTerms, batch: QueuedOrder[]): Promise<Outcome[]> {
  if (batch.length === 0) return [];
  try {
    return await writeOrders(prisma, terms, batch);
  } catch (e) {
    if (!(e instanceof Refused) || batch.length === 1) {
      if (e instanceof Refused) return [{ ticketId: batch[0]!.ticketId, status: "REJECTED", code: e.code }];
      throw e;
    }
  }
  const outcomes: Outcome[] = [];
  for (const order of batch) outcomes.push(...(await persistBatch(prisma, terms, [order])));
  return outcomes;
}

async function writeOrders(prisma: PrismaClient, terms: ActivityTerms, batch: QueuedOrder[]): Promise<Outcome[]> {
  const now = new Date();
  const payBy = new Date(now.getTime() + terms.paymentWindowSec * 1000);
  const ids = batch.map(() => randomUUID());
  return prisma.$transaction(async (tx) => {
    const inserted = await tx.$queryRaw<{ ticket_id: string; id: string }[]>`
      INSERT INTO orders (id, ticket_id, sequence, user_id, activity_id, quantity, unit_price, amount, status, pay_by, created_at, updated_at)
      SELECT o.id, o.ticket_id, o.sequence, o.user_id, ${terms.id}, o.quantity, ${terms.salePrice},
             o.quantity * ${terms.salePrice}, 'PENDING_PAYMENT'::"OrderStatus", ${payBy}, ${now}, ${now}
      FROM unnest(${ids}::text[], ${batch.map((o) => o.ticketId)}::text[], ${batch.map((o) => o.sequence)}::int[],
                  ${batch.map((o) => o.userId)}::text[], ${batch.map((o) => o.quantity)}::int[])
           AS o(id, ticket_id, sequence, user_id, quantity)
      ON CONFLICT (ticket_id) DO NOTHING
      RETURNING ticket_id, id`;
    const fresh = new Set(inserted.map((r) => r.ticket_id));
    const newOrders = batch.filter((o) => fresh.has(o.ticketId));

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

    // Entries written by an earlier, interrupted run: answer them from what was stored then.
    const replayed = batch.filter((o) => !fresh.has(o.ticketId)).map((o) => o.ticketId);
    const earlier = replayed.length
      ? await tx.order.findMany({ where: { ticketId: { in: replayed } }, select: { ticketId: true, id: true, payBy: true } })
      : [];
    const byTicket = new Map<string, Outcome>();
    for (const r of inserted) byTicket.set(r.ticket_id, { ticketId: r.ticket_id, status: "CONFIRMED", orderId: r.id, payBy });
    for (const r of earlier) byTicket.set(r.ticketId, { ticketId: r.ticketId, status: "CONFIRMED", orderId: r.id, payBy: r.payBy });
    return batch.map((o) => byTicket.get(o.ticketId) ?? { ticketId: o.ticketId, status: "REJECTED", code: "SOLD_OUT" });
  });
}
