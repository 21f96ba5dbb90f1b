import "server-only";
import { db } from "@/lib/db";
import type { DeductionMode, OrderStatus } from "@/lib/generated/prisma/enums";

/** What the shopper sees of one of their orders (/orders/[id] and GET /api/orders/[id]). JSON-safe. */
export interface OrderView {
  id: string;
  status: OrderStatus;
  mode: DeductionMode;
  title: string;
  slug: string;
  quantity: number;
  amount: number;
  currency: string;
  createdAt: string;
  payBy: string | null;
  paidAt: string | null;
  closedAt: string | null;
  closeReason: string | null;
  /** The payment that paid the order (the receipt). */
  receipt: { ref: string; provider: string; amount: number; currency: string; paidAt: string } | null;
  /** Payments that were or are being returned. */
  refunds: {
    ref: string;
    amount: number;
    currency: string;
    reason: string;
    refunded: boolean;
    refundedAt: string | null;
  }[];
  /** A pre-sale order (docs/presale.md): its deposit and balance, and whether the balance can be paid yet. */
  presale: { deposit: number; balance: number; depositPaidAt: string | null; saleOpen: boolean } | null;
  serverTime: string;
}

/** The order if it is the user's; null otherwise (someone else's order and a missing one look the same). */
export async function orderView(userId: string, orderId: string): Promise<OrderView | null> {
  const o = await db().order.findUnique({
    where: { id: orderId },
    include: {
      activity: {
        select: { title: true, slug: true, deductionMode: true, status: true, startAt: true, product: { select: { currency: true } } },
      },
      payments: { where: { status: { in: ["SUCCEEDED", "REFUNDED"] } }, orderBy: { createdAt: "asc" } },
    },
  });
  if (!o || o.userId !== userId) return null;
  // The receipt is the payment that paid the order: a pre-sale order's deposit shows in `presale`.
  const kept = o.payments.find((p) => p.status === "SUCCEEDED" && !p.refundReason && p.kind !== "DEPOSIT");
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: o.id,
    status: o.status,
    mode: o.activity.deductionMode,
    title: o.activity.title,
    slug: o.activity.slug,
    quantity: o.quantity,
    amount: o.amount,
    currency: o.activity.product.currency,
    createdAt: o.createdAt.toISOString(),
    payBy: iso(o.payBy),
    paidAt: iso(o.paidAt),
    closedAt: iso(o.closedAt),
    closeReason: o.closeReason,
    receipt: kept
      ? {
          ref: kept.providerRef,
          provider: kept.provider,
          amount: kept.amount,
          currency: kept.currency,
          paidAt: iso(kept.paidAt)!,
        }
      : null,
    refunds: o.payments
      .filter((p) => p.refundReason)
      .map((p) => ({
        ref: p.providerRef,
        amount: p.amount,
        currency: p.currency,
        reason: p.refundReason!,
        refunded: p.status === "REFUNDED",
        refundedAt: iso(p.refundedAt),
      })),
    presale:
      o.deposit === null
        ? null
        : {
            deposit: o.deposit,
            balance: o.amount - o.deposit,
            depositPaidAt: iso(o.depositPaidAt),
            saleOpen: o.activity.status !== "SCHEDULED" && o.activity.startAt.getTime() <= Date.now(),
          },
    serverTime: new Date().toISOString(),
  };
}
