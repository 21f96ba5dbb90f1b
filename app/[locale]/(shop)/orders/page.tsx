import type { Metadata } from "next";
import Link from "next/link";
import { requireShopper } from "@/lib/auth/session";
import { listOrdersOfUser } from "@/lib/orders/queries";
import { getTranslations } from "next-intl/server";
import { LocalTime } from "@/components/i18n/format";
import { getFormat } from "@/lib/i18n/server";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("order"))("listTitle") };
}

export default async function OrdersPage() {
  const user = await requireShopper("/orders");
  const [orders, t, f] = await Promise.all([listOrdersOfUser(user.id), getTranslations("order"), getFormat()]);
  return (
    <>
      <h1>{t("listTitle")}</h1>
      {orders.length === 0 ? (
        <p className="muted">{t("none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t("sale")}</th>
              <th>{t("qty")}</th>
              <th>{t("amount")}</th>
              <th>{t("status")}</th>
              <th>{t("payByCol")}</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id} data-testid="order-row">
                <td>
                  <Link href={`/activities/${o.activity.slug}`}>{o.activity.title}</Link>
                </td>
                <td>{o.quantity}</td>
                <td>{f.money(o.amount, o.activity.product.currency)}</td>
                <td>
                  <Link href={`/orders/${o.id}`}>{t(`statusName.${o.status}`)}</Link>
                  {o.deposit !== null && (
                    <span className="muted small" data-testid="presale-row-state">
                      {" · "}
                      {t(
                        o.status === "PENDING_PAYMENT"
                          ? o.depositPaidAt
                            ? "presale.rowBalanceDue"
                            : "presale.rowDepositDue"
                          : o.status === "PAID"
                            ? "presale.rowPaid"
                            : o.depositPaidAt && o.status === "EXPIRED"
                              ? "presale.rowForfeited"
                              : "presale.rowClosed",
                        { deposit: f.money(o.deposit, o.activity.product.currency) },
                      )}
                    </span>
                  )}
                </td>
                <td>{o.payBy ? <LocalTime value={o.payBy} /> : f.dateTime(null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
