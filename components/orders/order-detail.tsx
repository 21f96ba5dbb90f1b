"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useActionState } from "react";
import { payOrder, type PayState } from "@/app/[locale]/(shop)/orders/actions";
import type { OrderView } from "@/lib/orders/view";
import { useTranslations } from "next-intl";
import { Countdown } from "@/components/flash/countdown";
import { LocalTime, useFormat } from "@/components/i18n/format";
import { useServerNow } from "@/components/flash/use-server-clock";

const REASONS = ["PAY_BY_PASSED", "SALE_CANCELLED", "SOLD_OUT_AT_PAYMENT", "ORDER_EXPIRED", "ORDER_CANCELLED", "ALREADY_PAID"] as const;
const PAY_ERRORS = ["ENDED", "NOT_FOUND", "UNAUTHENTICATED", "BAD_INPUT"] as const;
const known = <T extends string>(list: readonly T[], value: string | null | undefined): T | undefined =>
  list.find((v) => v === value);

async function fetchOrder(id: string): Promise<OrderView> {
  const res = await fetch(`/api/orders/${id}`, { cache: "no-store" });
  if (!res.ok) throw new Error(`order ${res.status}`);
  return (await res.json()) as OrderView;
}

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
  const t = useTranslations("order");
  const f = useFormat();
  const reason = (code: string) => {
    const k = known(REASONS, code);
    return k ? t(`reason.${k}`) : code;
  };
  const now = useServerNow(500);
  const [payState, pay, paying] = useActionState<PayState, FormData>(payOrder, null);
  const left = o.payBy ? Date.parse(o.payBy) - now : null;
  const pending = o.status === "PENDING_PAYMENT";
  const ps = o.presale;
  // A pre-sale order pays its deposit first, then its balance once the flash sale has opened.
  const dueNow = !ps ? o.amount : ps.depositPaidAt ? ps.balance : ps.deposit;
  const payable = pending && (!ps || !ps.depositPaidAt || ps.saleOpen);

  return (
    <article className="order-detail">
      <h1>{t("orderFor", { title: o.title })}</h1>
      <p>
        <span className="muted">{t("statusLabel")} </span>
        <strong data-testid="order-status" data-status={o.status}>
          {t(`statusName.${o.status}`)}
        </strong>
      </p>
      <p className="muted">
        {o.quantity} × {f.money(o.amount / o.quantity, o.currency)} = <strong>{f.money(o.amount, o.currency)}</strong> ·{" "}
        <Link href={`/activities/${o.slug}`}>{t("backToSale")}</Link>
      </p>

      {ps && (
        <p className="alert info" data-testid="presale-order" data-state={!ps.depositPaidAt ? "DEPOSIT_DUE" : o.status === "PENDING_PAYMENT" ? "BALANCE_DUE" : o.status}>
          {t("presale.summary", { deposit: f.money(ps.deposit, o.currency), balance: f.money(ps.balance, o.currency) })}{" "}
          {ps.depositPaidAt
            ? t.rich("presale.depositPaid", { time: () => <LocalTime value={ps.depositPaidAt!} /> })
            : pending && t("presale.depositFirst")}{" "}
          {pending && ps.depositPaidAt && !ps.saleOpen && t("presale.balanceLater")}
          {o.status === "EXPIRED" && ps.depositPaidAt && t("presale.forfeited")}
        </p>
      )}

      {pending && o.payBy && (
        <div className="alert info" aria-live="off">
          {t(o.mode === "RESERVE" ? "heldFor" : "payWithin")}{" "}
          <strong data-testid="hold-timer">
            <Countdown ms={left ?? 0} />
          </strong>{" "}
          {t.rich("by", { time: () => <LocalTime value={o.payBy!} /> })}
          {o.mode === "PAYMENT" && <> {t("paymentModeNote")}</>}
        </div>
      )}

      {payable && (left === null || left > 0) && (
        <form action={pay}>
          <input type="hidden" name="orderId" value={o.id} />
          {delivery && <input type="hidden" name="delivery" value={delivery} />}
          <button type="submit" className="btn primary big" disabled={paying} data-testid="pay-button">
            {paying
              ? t("opening")
              : t(!ps ? "pay" : ps.depositPaidAt ? "presale.payBalance" : "presale.payDeposit", { amount: f.money(dueNow, o.currency) })}
          </button>
        </form>
      )}
      <div aria-live="polite">
        {payState && <p className="alert">{t(`payError.${known(PAY_ERRORS, payState.code) ?? "ENDED"}`)}</p>}
        {o.closeReason && (
          <p className="alert" data-testid="order-reason">
            {known(REASONS, o.closeReason) ? reason(o.closeReason) : t("closed")}
          </p>
        )}
      </div>

      {o.receipt && (
        <section className="receipt" data-testid="receipt" aria-label={t("receipt")}>
          <h2>{t("receipt")}</h2>
          <dl>
            <dt>{t("paid")}</dt>
            <dd>{f.money(o.receipt.amount, o.receipt.currency)}</dd>
            <dt>{t("on")}</dt>
            <dd>
              <LocalTime value={o.receipt.paidAt} />
            </dd>
            <dt>{t("payment")}</dt>
            <dd>
              {o.receipt.provider} · <code>{o.receipt.ref}</code>
            </dd>
            <dt>{t("order")}</dt>
            <dd>
              <code>{o.id}</code>
            </dd>
          </dl>
        </section>
      )}

      {o.refunds.length > 0 && (
        <section aria-label={t("refunds")}>
          <h2>{t("refunds")}</h2>
          <ul>
            {o.refunds.map((r) => (
              <li key={r.ref} data-testid="refund">
                {f.money(r.amount, r.currency)} — {reason(r.reason)} <strong>{t(r.refunded ? "refunded" : "refundPending")}</strong>
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}
