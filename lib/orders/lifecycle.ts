import "server-only";
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

export const CLOSE_REASONS = ["PAY_BY_PASSED", "SALE_CANCELLED", "SOLD_OUT_AT_PAYMENT"] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];
export type RefundReason =
  "ORDER_EXPIRED" | "ORDER_CANCELLED" | "ALREADY_PAID" | "SOLD_OUT_AT_PAYMENT" | "SALE_CANCELLED";

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
export function redisTarget(
  mode: DeductionMode,
  status: OrderStatus,
  quantity: number,
  presale = false,
): { stock: number; quota: number } {
  // A pre-sale order was never admitted in Redis: while it holds its unit the sale's counter is that much
  // lower than admission alone made it; once closed it asks nothing (docs/presale.md).
  if (presale) return { stock: status === "PENDING_PAYMENT" || status === "PAID" ? -quantity : 0, quota: 0 };
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
 * A sale was cancelled: unpaid orders PENDING_PAYMENT → CANCELLED, paid ones PAID → REFUNDED. Their
 * units go back to the activity's stock, which for a sale that no longer sells is its unsold count.
 * The refunds are owed in the same transaction and paid by settleOwedRefunds.
 */
export async function closeSaleOrders(prisma: PrismaClient, activityId: string): Promise<SaleClosure> {
  const reason: CloseReason = "SALE_CANCELLED";
  return prisma.$transaction(async (tx) => {
    const now = new Date();
    // Both transitions in one conditional statement: PENDING_PAYMENT → CANCELLED, PAID → REFUNDED.
    const rows = await tx.$queryRaw<(Omit<Closed, "from"> & { status: OrderStatus })[]>`
      UPDATE orders o
      SET status = CASE o.status WHEN 'PAID' THEN 'REFUNDED'::"OrderStatus" ELSE 'CANCELLED'::"OrderStatus" END,
          closed_at = ${now}, close_reason = ${reason}, redis_owed = true, updated_at = now()
      FROM activities a
      WHERE o.activity_id = ${activityId} AND a.id = o.activity_id AND o.status IN ('PENDING_PAYMENT', 'PAID')
      RETURNING o.id, o.activity_id AS "activityId", o.user_id AS "userId", o.quantity, a.deduction_mode::text AS mode,
                o.status::text AS status`;
    const pending = rows.filter((r) => r.status === "CANCELLED");
    const paid = rows.filter((r) => r.status === "REFUNDED");
    // Paid orders, and the paid deposits of pre-sale orders still waiting for their balance: money owed back.
    if (rows.length > 0) {
      await tx.$executeRaw`
        UPDATE payments SET refund_reason = 'SALE_CANCELLED', updated_at = now()
        WHERE order_id = ANY(${rows.map((p) => p.id)}::text[]) AND status = 'SUCCEEDED' AND refund_reason IS NULL`;
    }
    const orders = rows.map(({ status, ...r }) => ({
      ...r,
      from: status === "REFUNDED" ? ("PAID" as const) : ("PENDING_PAYMENT" as const),
    }));
    await returnStock(tx, orders);
    return { cancelled: pending.length, refunded: paid.length, orders };
  });
}

/** Which part of an order a payment pays: all of it, or a pre-sale order's deposit or balance (docs/presale.md). */
export type PaymentKind = "FULL" | "DEPOSIT" | "BALANCE";

/** The part a new payment of the order pays: the whole order, else its deposit until that is paid, then the balance. */
export function nextPaymentKind(o: { deposit: number | null; depositPaid: boolean }): PaymentKind {
  return o.deposit === null ? "FULL" : o.depositPaid ? "BALANCE" : "DEPOSIT";
}

/** What a payment of that kind must amount to (minor units). */
export function amountDue(kind: PaymentKind, o: { amount: number; deposit: number | null }): number {
  if (kind === "FULL" || o.deposit === null) return o.amount;
  return kind === "DEPOSIT" ? o.deposit : o.amount - o.deposit;
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
  /** `redisOwed`: the payment moved stock (PAYMENT mode) that Redis must mirror. */
  | { kind: "PAID"; paymentId: string; redisOwed?: boolean }
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
 * The provider says money arrived, for a batch of notices (the notification handler groups concurrent
 * ones, like a group commit; one notice is a batch of one). In one transaction, under the orders' row
 * locks: each payment row is claimed with one conditional upsert on its unique provider ref (a
 * duplicate claims nothing and changes nothing), then the orders go PENDING_PAYMENT → PAID. A payment
 * that finds its order expired, cancelled or already paid — or, in PAYMENT mode, no stock left —
 * leaves the order as it is and is marked to be refunded. A notice whose amount or currency differs
 * from the order's writes nothing.
 */
export async function recordPayments(prisma: PrismaClient, notices: PaidNotice[]): Promise<PaymentOutcome[]> {
  if (notices.length === 0) return [];
  return prisma.$transaction(async (tx) => {
    const ids = [...new Set(notices.map((n) => n.orderId))].sort();
    const rows = await tx.$queryRaw<
      {
        id: string;
        status: OrderStatus;
        amount: number;
        quantity: number;
        activityId: string;
        mode: DeductionMode;
        currency: string;
        deposit: number | null;
        depositPaid: boolean;
      }[]
    >`
      SELECT o.id, o.status::text AS status, o.amount, o.quantity, o.activity_id AS "activityId",
             a.deduction_mode::text AS mode, p.currency, o.deposit, o.deposit_paid_at IS NOT NULL AS "depositPaid"
      FROM orders o JOIN activities a ON a.id = o.activity_id JOIN products p ON p.id = a.product_id
      WHERE o.id = ANY(${ids}::text[])
      ORDER BY o.id
      FOR UPDATE OF o`;
    const orders = new Map(rows.map((r) => [r.id, r]));
    // A pre-sale order is paid twice (deposit, balance): the checkout recorded which one each session is.
    const presaleRefs = notices.filter((n) => orders.get(n.orderId)?.deposit != null).map((n) => n.ref);
    const kindOf = new Map<string, PaymentKind>();
    if (presaleRefs.length) {
      const known = await tx.$queryRaw<{ ref: string; kind: PaymentKind }[]>`
        SELECT provider_ref AS ref, kind FROM payments WHERE provider_ref = ANY(${presaleRefs}::text[])`;
      for (const k of known) kindOf.set(k.ref, k.kind);
    }
    const outcomes: PaymentOutcome[] = notices.map(() => ({ kind: "DUPLICATE" }));
    const claims: { i: number; n: PaidNotice; reason: RefundReason | null; kind: PaymentKind }[] = [];
    const seenRefs = new Set<string>();
    const payingOrders = new Set<string>();
    notices.forEach((n, i) => {
      const o = orders.get(n.orderId);
      if (!o) return void (outcomes[i] = { kind: "UNKNOWN_ORDER" });
      const kind: PaymentKind = o.deposit === null ? "FULL" : (kindOf.get(n.ref) ?? nextPaymentKind(o));
      const due = amountDue(kind, o);
      if (due !== n.amount || o.currency.toUpperCase() !== n.currency.toUpperCase()) {
        return void (outcomes[i] = {
          kind: "MISMATCH",
          detail: `${n.amount} ${n.currency} for ${kind === "FULL" ? "an order" : `the ${kind.toLowerCase()}`} of ${due} ${o.currency}`,
        });
      }
      if (seenRefs.has(n.ref)) return; // the same notification twice in one batch
      seenRefs.add(n.ref);
      let reason: RefundReason | null = null;
      if (o.status !== "PENDING_PAYMENT") reason = REFUND_FOR[o.status] ?? "ORDER_CANCELLED";
      else if (kind === "DEPOSIT" && o.depositPaid) reason = "ALREADY_PAID"; // a second deposit session
      else if (kind === "BALANCE" && !o.depositPaid) reason = "ORDER_CANCELLED"; // no deposit, no balance
      else if (payingOrders.has(o.id))
        reason = "ALREADY_PAID"; // two sessions of one order paid together
      else payingOrders.add(o.id);
      claims.push({ i, n, reason, kind });
    });
    if (claims.length === 0) return outcomes;

    const claimed = await tx.$queryRaw<{ id: string; ref: string }[]>`
      INSERT INTO payments (id, order_id, provider, provider_ref, amount, currency, status, paid_at, refund_reason, payload, kind, created_at, updated_at)
      SELECT gen_random_uuid()::text, c.order_id, c.provider, c.ref, c.amount, c.currency, 'SUCCEEDED',
             c.paid_at::timestamptz AT TIME ZONE 'UTC', c.reason, c.payload::jsonb, c.kind, now(), now()
      FROM unnest(${claims.map((c) => c.n.orderId)}::text[], ${claims.map((c) => c.n.provider)}::text[],
                  ${claims.map((c) => c.n.ref)}::text[], ${claims.map((c) => c.n.amount)}::int[],
                  ${claims.map((c) => c.n.currency.toUpperCase())}::text[], ${claims.map((c) => c.n.paidAt.toISOString())}::text[],
                  ${claims.map((c) => c.reason)}::text[], ${claims.map((c) => JSON.stringify(c.n.payload ?? {}))}::text[],
                  ${claims.map((c) => c.kind)}::text[])
           AS c(order_id, provider, ref, amount, currency, paid_at, reason, payload, kind)
      ON CONFLICT (provider_ref) DO UPDATE
        SET status = 'SUCCEEDED', paid_at = EXCLUDED.paid_at, refund_reason = EXCLUDED.refund_reason,
            payload = EXCLUDED.payload, updated_at = now()
        WHERE payments.status = 'PENDING' AND payments.order_id = EXCLUDED.order_id
      RETURNING id, provider_ref AS ref`;
    const paymentOf = new Map(claimed.map((c) => [c.ref, c.id]));

    const toPay: string[] = [];
    const depositsPaid: string[] = [];
    const soldOut: { orderId: string; paymentId: string }[] = [];
    // PAYMENT mode: stock leaves now, in batch order, as far as it goes (activity rows locked, CHECK stock >= 0).
    const takes = new Map<string, number>();
    const stockLeft = new Map<string, number>();
    const paymentActivities = [
      ...new Set(
        claims
          .map((c) => orders.get(c.n.orderId)!)
          .filter((o) => o.mode === "PAYMENT")
          .map((o) => o.activityId),
      ),
    ].sort();
    if (paymentActivities.length) {
      const stocks = await tx.$queryRaw<{ id: string; stock: number }[]>`
        SELECT id, stock FROM activities WHERE id = ANY(${paymentActivities}::text[]) ORDER BY id FOR UPDATE`;
      for (const a of stocks) stockLeft.set(a.id, a.stock);
    }
    for (const c of claims) {
      const paymentId = paymentOf.get(c.n.ref);
      if (!paymentId) continue; // duplicate of an earlier notification
      const o = orders.get(c.n.orderId)!;
      if (c.reason) {
        outcomes[c.i] = { kind: "REFUND_OWED", paymentId, reason: c.reason };
        continue;
      }
      if (c.kind === "DEPOSIT") {
        depositsPaid.push(o.id);
        outcomes[c.i] = { kind: "PAID", paymentId };
        continue;
      }
      if (o.mode === "PAYMENT") {
        const left = stockLeft.get(o.activityId) ?? 0;
        if (left < o.quantity) {
          soldOut.push({ orderId: o.id, paymentId });
          outcomes[c.i] = { kind: "REFUND_OWED", paymentId, reason: "SOLD_OUT_AT_PAYMENT" };
          continue;
        }
        stockLeft.set(o.activityId, left - o.quantity);
        takes.set(o.activityId, (takes.get(o.activityId) ?? 0) + o.quantity);
      }
      toPay.push(o.id);
      outcomes[c.i] = { kind: "PAID", paymentId, ...(o.mode === "PAYMENT" ? { redisOwed: true } : {}) };
    }
    for (const [id, units] of takes) {
      const took = await tx.$executeRaw`
        UPDATE activities SET stock = stock - ${units}, updated_at = now(),
               sold_out_at = CASE WHEN stock = ${units} THEN now() ELSE sold_out_at END
        WHERE id = ${id} AND stock >= ${units}`;
      if (took !== 1) throw new Error(`activity ${id} changed under its lock`);
    }
    if (toPay.length) {
      const moved = await tx.$executeRaw`
        UPDATE orders o SET status = 'PAID', paid_at = now(), redis_owed = (a.deduction_mode = 'PAYMENT'), updated_at = now()
        FROM activities a
        WHERE o.id = ANY(${toPay}::text[]) AND a.id = o.activity_id AND o.status = 'PENDING_PAYMENT'`;
      // Cannot happen under the row locks; if it did, the transaction rolls back and the provider retries.
      if (moved !== toPay.length) throw new Error("orders left PENDING_PAYMENT under their locks");
    }
    if (depositsPaid.length) {
      // Pre-sale: the deposit keeps the unit; the balance is due within the window after the flash sale opens.
      const moved = await tx.$executeRaw`
        UPDATE orders o SET deposit_paid_at = now(), updated_at = now(),
               pay_by = greatest(a.start_at, now()) + make_interval(secs => a.balance_window_sec)
        FROM activities a
        WHERE o.id = ANY(${depositsPaid}::text[]) AND a.id = o.activity_id AND o.status = 'PENDING_PAYMENT'
          AND o.deposit_paid_at IS NULL`;
      if (moved !== depositsPaid.length) throw new Error("deposits changed under their locks");
    }
    if (soldOut.length) {
      await tx.$executeRaw`
        UPDATE orders SET status = 'CANCELLED', closed_at = now(), close_reason = 'SOLD_OUT_AT_PAYMENT', redis_owed = true, updated_at = now()
        WHERE id = ANY(${soldOut.map((x) => x.orderId)}::text[]) AND status = 'PENDING_PAYMENT'`;
      await tx.$executeRaw`
        UPDATE payments SET refund_reason = 'SOLD_OUT_AT_PAYMENT', updated_at = now()
        WHERE id = ANY(${soldOut.map((x) => x.paymentId)}::text[])`;
    }
    return outcomes;
  });
}

export async function recordPayment(prisma: PrismaClient, n: PaidNotice): Promise<PaymentOutcome> {
  const [outcome] = await recordPayments(prisma, [n]);
  return outcome!;
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
