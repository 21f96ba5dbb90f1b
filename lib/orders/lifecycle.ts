import "server-only";
import { randomUUID } from "node:crypto";
import type { Prisma, PrismaClient } from "@/lib/generated/prisma/client";
import type { DeductionMode, OrderStatus } from "@/lib/generated/prisma/enums";

/*
 * The order state machine, the only place that changes an order's status (DESIGN.md "The order lifecycle"):
 *
 *   PENDING_PAYMENT → PAID | EXPIRED | CANCELLED        PAID → REFUNDED
 *
 * Every transition is one conditional UPDATE (`… WHERE status = '<from>'`), and a trigger in the database
 * refuses any other status change (migration 20261201110000_order_lifecycle). The transition that wins
 * the UPDATE is the only one that moves stock, in the same transaction, so units go back exactly once
 * however many sweepers, payments and admins race for the order. Redis mirrors the move afterwards
 * (lib/orders/stock-mirror.ts), driven by the `redis_owed` flag set in that same transaction.
 */

type Tx = Prisma.TransactionClient;

export const CLOSE_REASONS = ["PAY_BY_PASSED", "SALE_CANCELLED", "SALE_ENDED", "SOLD_OUT_AT_PAYMENT"] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];
export type RefundReason = "ORDER_EXPIRED" | "ORDER_CANCELLED" | "ALREADY_PAID" | "SOLD_OUT_AT_PAYMENT" | "SALE_CANCELLED";

/** Units an order gives back to activities.stock when it leaves `from`: the stock it holds in PostgreSQL. */
export function heldUnits(mode: DeductionMode, from: OrderStatus, quantity: number): number {
  if (from !== "PENDING_PAYMENT" && from !== "PAID") return 0;
  // PAYMENT mode takes stock at payment, so only a paid order holds any.
  if (mode === "PAYMENT") return from === "PAID" ? quantity : 0;
  return quantity;
}

/**
 * What an order in `status` has changed in Redis since its admission, per counter. Admission took
 * `stock` (ORDER, RESERVE) or `quota` (PAYMENT); the lifecycle moves the rest. The Redis mirror
 * applies the difference between this target and what it applied before, so it is idempotent.
 */
export function redisTarget(mode: DeductionMode, status: OrderStatus, quantity: number): { stock: number; quota: number } {
  const closed = status === "EXPIRED" || status === "CANCELLED" || status === "REFUNDED";
  if (mode !== "PAYMENT") return { stock: closed ? quantity : 0, quota: 0 };
  if (status === "PAID") return { stock: -quantity, quota: 0 };
  // An unpaid order that closed gives its admission back; a refunded one gave stock back but keeps its quota.
  return { stock: 0, quota: status === "EXPIRED" || status === "CANCELLED" ? quantity : 0 };
}

export interface Closed {
  id: string;
  activityId: string;
  userId: string;
  quantity: number;
  mode: DeductionMode;
  from: OrderStatus;
}

/** Adds the units the closed orders held back to their activities, in one transaction with their transition. */
async function returnStock(tx: Tx, closed: Closed[]): Promise<void> {
  const perActivity = new Map<string, number>();
  for (const c of closed) {
    const units = heldUnits(c.mode, c.from, c.quantity);
    if (units > 0) perActivity.set(c.activityId, (perActivity.get(c.activityId) ?? 0) + units);
  }
  // Sorted, so two sweepers lock activity rows in the same order and never deadlock.
  for (const [id, units] of [...perActivity].sort(([x], [y]) => x.localeCompare(y))) {
    await tx.$executeRaw`UPDATE activities SET stock = stock + ${units}, updated_at = now() WHERE id = ${id}`;
  }
}

/**
 * PENDING_PAYMENT → EXPIRED for up to `limit` orders whose pay-by has passed; returns the orders it
 * closed. SKIP LOCKED lets several sweepers share the work, and an order locked by a payment in
 * flight is left to the next sweep (by then it is PAID, or still due).
 */
export async function expireDue(
  prisma: PrismaClient,
  opts: { now: Date; limit: number; nonPayerThreshold: number },
): Promise<Closed[]> {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<Omit<Closed, "from">[]>`
      WITH due AS (
        SELECT id FROM orders
        WHERE status = 'PENDING_PAYMENT' AND pay_by <= ${opts.now}
        ORDER BY pay_by LIMIT ${opts.limit}
        FOR UPDATE SKIP LOCKED)
      UPDATE orders o
      SET status = 'EXPIRED', closed_at = ${opts.now}, close_reason = 'PAY_BY_PASSED', redis_owed = true, updated_at = now()
      FROM due, activities a
      WHERE o.id = due.id AND a.id = o.activity_id AND o.status = 'PENDING_PAYMENT'
      RETURNING o.id, o.activity_id AS "activityId", o.user_id AS "userId", o.quantity, a.deduction_mode::text AS mode`;
    if (rows.length === 0) return [];
    const closed = rows.map((r) => ({ ...r, from: "PENDING_PAYMENT" as const }));
    await returnStock(tx, closed);
    await countExpiries(tx, closed, opts.nonPayerThreshold, opts.now);
    return closed;
  });
}

/** Non-payers: each expiry counts against its shopper; at the threshold the shopper is flagged. */
async function countExpiries(tx: Tx, closed: Closed[], threshold: number, now: Date) {
  const users = closed.map((c) => c.userId);
  await tx.$executeRaw`
    UPDATE users u
    SET expired_orders = u.expired_orders + c.n,
        non_payer_since = CASE WHEN u.non_payer_since IS NULL AND u.expired_orders + c.n >= ${threshold}
                               THEN ${now} ELSE u.non_payer_since END
    FROM (SELECT user_id, count(*)::int AS n FROM unnest(${users}::text[]) AS user_id GROUP BY user_id) c
    WHERE u.id = c.user_id`;
}

export interface SaleClosure {
  cancelled: number;
  refunded: number;
  orders: Closed[];
}

/**
 * A sale was cancelled (unpaid orders cancelled, paid ones refunded) or ended by an admin (unpaid
 * orders cancelled; the paid ones stand). Units go back to the activity's stock, which after the
 * end is its unsold count. Refunds are owed in the same transaction and paid by settleRefunds.
 */
export async function closeSaleOrders(
  prisma: PrismaClient,
  activityId: string,
  opts: { reason: "SALE_CANCELLED" | "SALE_ENDED"; refundPaid: boolean },
): Promise<SaleClosure> {
  return prisma.$transaction(async (tx) => {
    const now = new Date();
    const pending = await tx.$queryRaw<Omit<Closed, "from">[]>`
      UPDATE orders o
      SET status = 'CANCELLED', closed_at = ${now}, close_reason = ${opts.reason}, redis_owed = true, updated_at = now()
      FROM activities a
      WHERE o.activity_id = ${activityId} AND a.id = o.activity_id AND o.status = 'PENDING_PAYMENT'
      RETURNING o.id, o.activity_id AS "activityId", o.user_id AS "userId", o.quantity, a.deduction_mode::text AS mode`;
    const paid = opts.refundPaid
      ? await tx.$queryRaw<Omit<Closed, "from">[]>`
          UPDATE orders o
          SET status = 'REFUNDED', closed_at = ${now}, close_reason = ${opts.reason}, redis_owed = true, updated_at = now()
          FROM activities a
          WHERE o.activity_id = ${activityId} AND a.id = o.activity_id AND o.status = 'PAID'
          RETURNING o.id, o.activity_id AS "activityId", o.user_id AS "userId", o.quantity, a.deduction_mode::text AS mode`
      : [];
    if (paid.length > 0) {
      await tx.$executeRaw`
        UPDATE payments SET refund_reason = 'SALE_CANCELLED', updated_at = now()
        WHERE order_id = ANY(${paid.map((p) => p.id)}::text[]) AND status = 'SUCCEEDED' AND refund_reason IS NULL`;
    }
    const orders = [
      ...pending.map((r) => ({ ...r, from: "PENDING_PAYMENT" as const })),
      ...paid.map((r) => ({ ...r, from: "PAID" as const })),
    ];
    await returnStock(tx, orders);
    return { cancelled: pending.length, refunded: paid.length, orders };
  });
}

export interface PaidNotice {
  provider: string;
  /** The provider's id of the checkout session that was paid. */
  ref: string;
  orderId: string;
  amount: number;
  currency: string;
  paidAt: Date;
  payload?: Prisma.InputJsonValue;
}

export type PaymentOutcome =
  | { kind: "PAID"; paymentId: string }
  | { kind: "REFUND_OWED"; paymentId: string; reason: RefundReason }
  | { kind: "DUPLICATE" }
  | { kind: "UNKNOWN_ORDER" }
  | { kind: "MISMATCH"; detail: string };

const REFUND_FOR: Partial<Record<OrderStatus, RefundReason>> = {
  PAID: "ALREADY_PAID",
  EXPIRED: "ORDER_EXPIRED",
  CANCELLED: "ORDER_CANCELLED",
  REFUNDED: "ORDER_CANCELLED",
  REFUSED: "ORDER_CANCELLED",
};

/**
 * The provider says money arrived. Under the order's row lock: the payment row is claimed with one
 * conditional upsert on its unique provider ref (a duplicate notification claims nothing and changes
 * nothing), then the order goes PENDING_PAYMENT → PAID. A payment that finds the order expired,
 * cancelled or already paid — or, in PAYMENT mode, no stock left — keeps the order as it is and is
 * marked to be refunded. The amount and currency must match the order's, or nothing is written.
 */
export async function recordPayment(prisma: PrismaClient, n: PaidNotice): Promise<PaymentOutcome> {
  return prisma.$transaction(async (tx) => {
    const [o] = await tx.$queryRaw<
      { id: string; status: OrderStatus; amount: number; quantity: number; activityId: string; mode: DeductionMode; currency: string }[]
    >`
      SELECT o.id, o.status::text AS status, o.amount, o.quantity, o.activity_id AS "activityId",
             a.deduction_mode::text AS mode, p.currency
      FROM orders o JOIN activities a ON a.id = o.activity_id JOIN products p ON p.id = a.product_id
      WHERE o.id = ${n.orderId}
      FOR UPDATE OF o`;
    if (!o) return { kind: "UNKNOWN_ORDER" };
    if (o.amount !== n.amount || o.currency.toUpperCase() !== n.currency.toUpperCase()) {
      return { kind: "MISMATCH", detail: `${n.amount} ${n.currency} for an order of ${o.amount} ${o.currency}` };
    }
    let reason: RefundReason | null = o.status === "PENDING_PAYMENT" ? null : (REFUND_FOR[o.status] ?? "ORDER_CANCELLED");
    const claimed = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO payments (id, order_id, provider, provider_ref, amount, currency, status, paid_at, refund_reason, payload, created_at, updated_at)
      VALUES (${randomUUID()}, ${o.id}, ${n.provider}, ${n.ref}, ${n.amount}, ${n.currency.toUpperCase()}, 'SUCCEEDED',
              ${n.paidAt}, ${reason}, ${JSON.stringify(n.payload ?? {})}::jsonb, now(), now())
      ON CONFLICT (provider_ref) DO UPDATE
        SET status = 'SUCCEEDED', paid_at = EXCLUDED.paid_at, refund_reason = EXCLUDED.refund_reason,
            payload = EXCLUDED.payload, updated_at = now()
        WHERE payments.status = 'PENDING' AND payments.order_id = EXCLUDED.order_id
      RETURNING id`;
    const paymentId = claimed[0]?.id;
    if (!paymentId) return { kind: "DUPLICATE" };
    if (reason) return { kind: "REFUND_OWED", paymentId, reason };

    if (o.mode === "PAYMENT") {
      // Stock leaves at payment: the same conditional update (and CHECK stock >= 0) the workers use.
      const took = await tx.$executeRaw`
        UPDATE activities SET stock = stock - ${o.quantity}, updated_at = now(),
               sold_out_at = CASE WHEN stock = ${o.quantity} THEN now() ELSE sold_out_at END
        WHERE id = ${o.activityId} AND stock >= ${o.quantity}`;
      if (took !== 1) {
        reason = "SOLD_OUT_AT_PAYMENT";
        await tx.$executeRaw`
          UPDATE orders SET status = 'CANCELLED', closed_at = now(), close_reason = ${reason}, redis_owed = true, updated_at = now()
          WHERE id = ${o.id} AND status = 'PENDING_PAYMENT'`;
        await tx.$executeRaw`UPDATE payments SET refund_reason = ${reason}, updated_at = now() WHERE id = ${paymentId}`;
        return { kind: "REFUND_OWED", paymentId, reason };
      }
    }
    const moved = await tx.$executeRaw`
      UPDATE orders SET status = 'PAID', paid_at = now(), redis_owed = ${o.mode === "PAYMENT"}, updated_at = now()
      WHERE id = ${o.id} AND status = 'PENDING_PAYMENT'`;
    // Cannot happen under the row lock; if it did, the transaction rolls back and the notification is retried.
    if (moved !== 1) throw new Error(`order ${o.id} left PENDING_PAYMENT under its lock`);
    return { kind: "PAID", paymentId };
  });
}

/** A checkout the shopper declined or that expired at the provider: PENDING → FAILED. */
export async function recordDeclined(prisma: PrismaClient, ref: string): Promise<boolean> {
  const n = await prisma.$executeRaw`
    UPDATE payments SET status = 'FAILED', updated_at = now() WHERE provider_ref = ${ref} AND status = 'PENDING'`;
  return n === 1;
}

/** The provider confirmed a refund that was owed: SUCCEEDED → REFUNDED. */
export async function recordRefunded(prisma: PrismaClient, paymentId: string, refundRef: string): Promise<boolean> {
  const n = await prisma.$executeRaw`
    UPDATE payments SET status = 'REFUNDED', refund_ref = ${refundRef}, refunded_at = now(), updated_at = now()
    WHERE id = ${paymentId} AND status = 'SUCCEEDED' AND refund_reason IS NOT NULL`;
  return n === 1;
}
