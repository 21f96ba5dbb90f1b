"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useActionState } from "react";
import { payOrder, type PayState } from "@/app/(shop)/orders/actions";
import type { OrderView } from "@/lib/orders/view";
import { formatMoney } from "@/lib/format";
import { formatCountdown, useServerNow } from "@/components/flash/use-server-clock";

const STATUS: Record<OrderView["status"], string> = {
  PENDING_PAYMENT: "Waiting for payment",
  PAID: "Paid",
  EXPIRED: "Expired",
  CANCELLED: "Cancelled",
  REFUSED: "Refused",
  REFUNDED: "Refunded",
};

const REASONS: Record<string, string> = {
  PAY_BY_PASSED: "It was not paid by the pay-by time, so its units went back on sale.",
  SALE_CANCELLED: "The sale was cancelled by the shop.",
  SOLD_OUT_AT_PAYMENT: "Every unit had been paid for by other shoppers when your payment arrived, so it was refused.",
  ORDER_EXPIRED: "The payment arrived after the order had expired.",
  ORDER_CANCELLED: "The payment arrived after the order had been cancelled.",
  ALREADY_PAID: "The order had already been paid; this second payment is returned.",
};

const PAY_ERRORS: Record<string, string> = {
  ENDED: "This order can no longer be paid.",
  NOT_FOUND: "This order does not exist.",
  UNAUTHENTICATED: "Sign in again to pay.",
  BAD_INPUT: "That request was not valid.",
};

async function fetchOrder(id: string): Promise<OrderView> {
  const res = await fetch(`/api/orders/${id}`, { cache: "no-store" });
  if (!res.ok) throw new Error(`order ${res.status}`);
  return (await res.json()) as OrderView;
}

/** Date, time and time zone, in the shopper's locale and zone. */
const longTime = (iso: string) =>
  new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" }).format(new Date(iso));

export function OrderDetail({ initial, delivery }: { initial: OrderView; delivery?: string }) {
  const order = useQuery({
    queryKey: ["order", initial.id],
    queryFn: () => fetchOrder(initial.id),
    initialData: initial,
    // Polls while something can still change: a payment on its way, a refund being paid.
    refetchInterval: (q) => {
      const o = q.state.data;
      return o && (o.status === "PENDING_PAYMENT" || o.refunds.some((r) => !r.refunded)) ? 2_000 : false;
    },
  });
  const o = order.data;
  const now = useServerNow(500);
  const [payState, pay, paying] = useActionState<PayState, FormData>(payOrder, null);
  const left = o.payBy ? Date.parse(o.payBy) - now : null;
  const pending = o.status === "PENDING_PAYMENT";

  return (
    <article className="order-detail">
      <h1>Order for {o.title}</h1>
      <p>
        <span className="muted">Status: </span>
        <strong data-testid="order-status" data-status={o.status}>
          {STATUS[o.status]}
        </strong>
      </p>
      <p className="muted">
        {o.quantity} × {formatMoney(o.amount / o.quantity, o.currency)} ={" "}
        <strong>{formatMoney(o.amount, o.currency)}</strong> ·{" "}
        <Link href={`/activities/${o.slug}`}>back to the sale</Link>
      </p>

      {pending && o.payBy && (
        <div className="alert info" aria-live="off">
          {o.mode === "RESERVE" ? "Your units are held for you for " : "Pay within "}
          <strong data-testid="hold-timer">{formatCountdown(left ?? 0)}</strong>
          {" — by "}
          <time dateTime={o.payBy} suppressHydrationWarning>
            {longTime(o.payBy)}
          </time>
          .{o.mode === "PAYMENT" && " Stock is taken when you pay: if others pay first, your payment is returned."}
        </div>
      )}

      {pending && (left === null || left > 0) && (
        <form action={pay}>
          <input type="hidden" name="orderId" value={o.id} />
          {delivery && <input type="hidden" name="delivery" value={delivery} />}
          <button type="submit" className="btn primary big" disabled={paying} data-testid="pay-button">
            {paying ? "Opening the payment page…" : `Pay ${formatMoney(o.amount, o.currency)}`}
          </button>
        </form>
      )}
      <div aria-live="polite">
        {payState && <p className="alert">{PAY_ERRORS[payState.code] ?? PAY_ERRORS.ENDED}</p>}
        {o.closeReason && (
          <p className="alert" data-testid="order-reason">
            {REASONS[o.closeReason] ?? "This order was closed."}
          </p>
        )}
      </div>

      {o.receipt && (
        <section className="receipt" data-testid="receipt" aria-label="Receipt">
          <h2>Receipt</h2>
          <dl>
            <dt>Paid</dt>
            <dd>{formatMoney(o.receipt.amount, o.receipt.currency)}</dd>
            <dt>On</dt>
            <dd>
              <time dateTime={o.receipt.paidAt} suppressHydrationWarning>
                {longTime(o.receipt.paidAt)}
              </time>
            </dd>
            <dt>Payment</dt>
            <dd>
              {o.receipt.provider} · <code>{o.receipt.ref}</code>
            </dd>
            <dt>Order</dt>
            <dd>
              <code>{o.id}</code>
            </dd>
          </dl>
        </section>
      )}

      {o.refunds.length > 0 && (
        <section aria-label="Refunds">
          <h2>Refunds</h2>
          <ul>
            {o.refunds.map((r) => (
              <li key={r.ref} data-testid="refund">
                {formatMoney(r.amount, r.currency)} — {REASONS[r.reason] ?? r.reason}{" "}
                <strong>{r.refunded ? "Refunded." : "Refund on its way."}</strong>
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}
