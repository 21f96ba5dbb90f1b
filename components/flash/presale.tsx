"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useTranslations } from "next-intl";
import { LocalTime, useFormat } from "@/components/i18n/format";
import { fetchPresale, takeDeposit } from "@/components/flash/api";

// Pre-sale on the sale page (docs/presale.md): the deposit window and button before the flash sale,
// then the shopper's own pre-sale order: deposit to pay, or "pay the balance by …".

export interface PresaleTerms {
  deposit: number;
  opensAt: string;
  closesAt: string;
  balanceWindowSec: number;
}

const presaleQueryKey = (activityId: string) => ["presale", activityId] as const;

export function PresalePanel(p: {
  activityId: string;
  terms: PresaleTerms;
  signedIn: boolean;
  salePrice: number;
  currency: string;
  now: number;
  startMs: number;
}) {
  const t = useTranslations("presale");
  const f = useFormat();
  const router = useRouter();
  const queryClient = useQueryClient();
  const key = presaleQueryKey(p.activityId);
  const view = useQuery({
    queryKey: key,
    queryFn: () => fetchPresale(p.activityId),
    enabled: p.signedIn,
    refetchInterval: 10_000,
  });
  const take = useMutation({
    mutationFn: () => takeDeposit(p.activityId),
    onSuccess: (r) => {
      if (!("code" in r)) router.push(`/orders/${r.orderId}`);
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: key }),
  });
  const v = view.data && !("code" in view.data) ? view.data : null;
  const mine = v?.order ?? null;
  const holding = mine && (mine.status === "PENDING_PAYMENT" || mine.status === "PAID");
  const opens = Date.parse(p.terms.opensAt);
  const closes = Date.parse(p.terms.closesAt);
  const open = p.now >= opens && p.now < closes && p.now < p.startMs;
  const refused = take.data && "code" in take.data ? take.data.code : null;
  const deposit = f.money(p.terms.deposit, p.currency);
  const balance = f.money(p.salePrice - p.terms.deposit, p.currency);
  // Nothing to say once the flash sale runs, unless this shopper has a pre-sale order.
  if (p.now >= p.startMs && !mine) return null;
  return (
    <section className="presale" data-testid="presale" aria-label={t("title")}>
      <h2 className="presale-title">{t("title")}</h2>
      <p className="muted">
        {t.rich("terms", {
          deposit,
          balance,
          opens: () => <LocalTime value={p.terms.opensAt} />,
          closes: () => <LocalTime value={p.terms.closesAt} />,
          hours: Math.round((p.terms.balanceWindowSec / 3600) * 10) / 10,
        })}
      </p>
      {!p.signedIn && open && <p className="muted">{t("signIn")}</p>}
      {p.signedIn && !holding && open && (v === null || v.unitsLeft > 0) && (
        <button type="button" className="btn primary" data-testid="deposit-button" disabled={take.isPending} onClick={() => take.mutate()}>
          {t("payDeposit", { deposit })}
        </button>
      )}
      {p.signedIn && !holding && open && v?.unitsLeft === 0 && <p className="muted">{t("reservedOut")}</p>}
      {refused && (
        <p className="alert" role="status">
          {t(`refusal.${refused}`)}
        </p>
      )}
      {mine && holding && !mine.depositPaid && mine.payBy && (
        <p className="alert info" data-testid="presale-state" data-state="DEPOSIT_DUE">
          {t.rich("depositDue", { deposit, time: () => <LocalTime value={mine.payBy!} /> })}{" "}
          <Link href={`/orders/${mine.orderId}`}>{t("toOrder")}</Link>
        </p>
      )}
      {mine && mine.status === "PENDING_PAYMENT" && mine.depositPaid && mine.payBy && (
        <p className="alert info" data-testid="presale-state" data-state="BALANCE_DUE">
          {t.rich(p.now >= p.startMs ? "balanceDue" : "balanceLater", {
            balance: f.money(mine.balance, p.currency),
            time: () => <LocalTime value={mine.payBy!} />,
          })}{" "}
          <Link href={`/orders/${mine.orderId}`} data-testid="balance-link">
            {t(p.now >= p.startMs ? "payBalance" : "toOrder")}
          </Link>
        </p>
      )}
      {mine && mine.status === "PAID" && (
        <p className="alert info" data-testid="presale-state" data-state="PAID">
          {t("paid")} <Link href={`/orders/${mine.orderId}`}>{t("toOrder")}</Link>
        </p>
      )}
      {mine && mine.status === "EXPIRED" && (
        <p className="alert" data-testid="presale-state" data-state="EXPIRED">
          {t(mine.depositPaid ? "forfeited" : "depositLapsed")}
        </p>
      )}
    </section>
  );
}
