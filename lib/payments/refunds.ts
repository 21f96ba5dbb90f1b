import "server-only";
import { db } from "@/lib/db";
import { errorText, log } from "@/lib/log";
import { recordRefunded } from "@/lib/orders/lifecycle";
import type { PaymentProvider } from "@/lib/payments/types";

const refundLog = log.child({ component: "refunds" });

/** Pays back one payment marked to be refunded (idempotent at the provider: keyed by the payment id). */
export async function settleRefund(provider: PaymentProvider, paymentId: string): Promise<boolean> {
  const p = await db().payment.findUnique({ where: { id: paymentId } });
  if (!p || p.status !== "SUCCEEDED" || !p.refundReason) return false;
  const { refundRef } = await provider.refund(p.providerRef, p.amount, `refund-${p.id}`);
  return recordRefunded(db(), p.id, refundRef);
}

/** Every refund still owed (the provider did not answer before): the sweeper's retry. */
export async function settleOwedRefunds(provider: PaymentProvider, limit = 100): Promise<number> {
  const owed = await db().payment.findMany({
    where: { status: "SUCCEEDED", refundReason: { not: null }, provider: provider.name },
    select: { id: true },
    take: limit,
  });
  let done = 0;
  for (const p of owed) {
    try {
      if (await settleRefund(provider, p.id)) done++;
    } catch (e) {
      refundLog.warn({ payment: p.id, err: errorText(e) }, "refund failed; retried on the next sweep");
    }
  }
  return done;
}
