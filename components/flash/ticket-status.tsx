import Link from "next/link";
import { useTranslations } from "next-intl";
import { LocalTime } from "@/components/i18n/format";
import { REFUSAL_CODES, REJECTION_ONLY_CODES, type RefusalCode } from "@/lib/flash/codes";
import type { TicketView } from "@/lib/flash/wire";

/**
 * What a shopper sees of a ticket or a refused buy, the same with JavaScript (the buy panel) and
 * without it (the result page the buy form's server action redirects to).
 */
export function TicketStatus({ view }: { view: TicketView }) {
  const t = useTranslations("buy");
  if (view.status === "CONFIRMED") {
    return (
      <div className="alert ok" data-testid="ticket-confirmed" data-order-id={view.orderId} data-sequence={view.sequence}>
        <strong>{t("confirmed")}</strong>{" "}
        {view.payBy && <>{t.rich("payBy", { time: () => <LocalTime value={view.payBy!} /> })} </>}
        <Link className="btn primary small" href={`/orders/${view.orderId}`} data-testid="pay-now">
          {t("payNow")}
        </Link>
      </div>
    );
  }
  if (view.status === "REJECTED") {
    return (
      <p className="alert" data-testid="ticket-rejected" data-code={view.code}>
        {t(`refusal.${[...REFUSAL_CODES, ...REJECTION_ONLY_CODES].includes(view.code as never) ? view.code : "SOLD_OUT"}` as "refusal.SOLD_OUT")}
      </p>
    );
  }
  return (
    <p className="alert info" data-testid="ticket-queued" data-sequence={view.sequence} data-ahead={view.ahead}>
      {t("inQueue", { sequence: view.sequence })}{" "}
      {view.ahead > 0 ? (
        <strong data-testid="ahead" data-ahead={view.ahead}>
          {t("ahead", { count: view.ahead })}
        </strong>
      ) : (
        <strong>{t("confirming")}</strong>
      )}
    </p>
  );
}

/** A refused buy; RATE_LIMITED says how long to wait when the server told (Retry-After). */
export function BuyRefused({ code, retryAfter }: { code: RefusalCode; retryAfter?: number }) {
  const t = useTranslations("buy");
  return (
    <p className="alert" data-testid="buy-refused" data-code={code}>
      {code === "RATE_LIMITED" && retryAfter ? t("retryIn", { seconds: retryAfter }) : t(`refusal.${code}`)}
    </p>
  );
}
