import "server-only";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { errorText, log } from "@/lib/log";
import { amountDue, nextPaymentKind, recordDeclined } from "@/lib/orders/lifecycle";
import { paymentProvider, publicBaseUrl } from "@/lib/payments";
import { applyPaid } from "@/lib/payments/notifications";
import type { PaymentProvider, SandboxDelivery } from "@/lib/payments/types";

export type CheckoutResult = { ok: true; url: string } | { ok: false; code: "NOT_FOUND" | "NOT_PAYABLE" };

/**
 * The shopper pressed "Pay": a checkout session at the provider, recorded as a PENDING payment (its
 * ref is the session id, unique). An open session of the order is reused, so a second click does
 * not open a second way to pay; a session paid twice anyway is refunded as ALREADY_PAID.
 */
export async function startCheckout(
  userId: string,
  orderId: string,
  opts: { delivery?: SandboxDelivery; provider?: PaymentProvider } = {},
): Promise<CheckoutResult> {
  const provider = opts.provider ?? paymentProvider();
  const o = await db().order.findUnique({
    where: { id: orderId },
    select: {
      userId: true,
      status: true,
      payBy: true,
      amount: true,
      deposit: true,
      depositPaidAt: true,
      activity: { select: { title: true, status: true, startAt: true, product: { select: { currency: true } } } },
    },
  });
  if (!o || o.userId !== userId) return { ok: false, code: "NOT_FOUND" };
  const now = new Date();
  if (o.status !== "PENDING_PAYMENT" || (o.payBy && o.payBy <= now)) return { ok: false, code: "NOT_PAYABLE" };
  // A pre-sale order (docs/presale.md) is paid in two parts; the balance only once the flash sale has opened.
  const kind = nextPaymentKind({ deposit: o.deposit, depositPaid: o.depositPaidAt !== null });
  if (kind === "BALANCE" && (o.activity.startAt > now || o.activity.status === "SCHEDULED"))
    return { ok: false, code: "NOT_PAYABLE" };
  const amount = amountDue(kind, o);
  const open = await db().payment.findFirst({
    where: { orderId, kind, status: "PENDING", provider: provider.name, checkoutUrl: { not: null } },
    orderBy: { createdAt: "desc" },
  });
  if (open?.checkoutUrl && !opts.delivery) return { ok: true, url: open.checkoutUrl };
  const currency = o.activity.product.currency;
  const checkout = await provider.createCheckout({
    orderId,
    amount,
    currency,
    description: o.activity.title,
    returnUrl: `${publicBaseUrl()}/orders/${orderId}?checkout=return`,
    ...(opts.delivery ? { delivery: opts.delivery } : {}),
  });
  await db().payment.create({
    data: {
      orderId,
      provider: provider.name,
      providerRef: checkout.ref,
      kind,
      amount,
      currency,
      checkoutUrl: checkout.url,
    },
  });
  return { ok: true, url: checkout.url };
}

/** The shopper is back from the pay page: the clock for the active query starts (once). */
export async function markReturned(userId: string, orderId: string): Promise<void> {
  await db().$executeRaw`
    UPDATE payments p SET returned_at = now(), updated_at = now()
    FROM orders o
    WHERE p.order_id = ${orderId} AND o.id = p.order_id AND o.user_id = ${userId}
      AND p.status = 'PENDING' AND p.returned_at IS NULL`;
}

const queryLog = log.child({ component: "active-query" });

/**
 * Active query: no notification arrived PAYMENT_QUERY_AFTER_SEC after the shopper came back, so the
 * shop asks the provider. Each open session is asked at most once per that interval however many
 * polls come in (the conditional update of queried_at is the claim). A paid session goes through
 * the same path as a notification, so a shopper on a flaky connection sees "paid" without paying twice.
 */
export async function queryIfDue(orderId: string, provider: PaymentProvider = paymentProvider()): Promise<number> {
  const after = env().PAYMENT_QUERY_AFTER_SEC;
  const due = await db().$queryRaw<{ ref: string }[]>`
    UPDATE payments SET queried_at = now()
    WHERE order_id = ${orderId} AND status = 'PENDING' AND provider = ${provider.name}
      AND returned_at <= now() - make_interval(secs => ${after})
      AND (queried_at IS NULL OR queried_at <= now() - make_interval(secs => ${Math.max(after, 1)}))
    RETURNING provider_ref AS ref`;
  let applied = 0;
  for (const { ref } of due) {
    try {
      const entry = await provider.retrieve(ref);
      if (entry?.status === "paid" || entry?.status === "refunded") {
        await applyPaid(provider, entry, "active-query");
        applied++;
      } else if (entry?.status === "declined" || entry?.status === "expired") {
        await recordDeclined(db(), ref);
      }
    } catch (e) {
      queryLog.warn({ ref, err: errorText(e) }, "provider query failed; asked again on a later poll");
    }
  }
  return applied;
}
