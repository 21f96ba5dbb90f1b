import type { Metadata } from "next";
import Link from "next/link";
import { requireAdmin } from "@/lib/auth/session";
import { listActivities } from "@/lib/admin/activities";
import { listOrders, paymentColumns } from "@/lib/admin/orders";
import { orderFilterSchema } from "@/lib/admin/schemas";
import { getTranslations } from "next-intl/server";
import { getFormat } from "@/lib/i18n/server";
import { OrderStatus } from "@/lib/generated/prisma/enums";
import styles from "@/components/admin/admin.module.css";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("admin.titles"))("orders") };
}

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function OrdersPage({ searchParams }: Props) {
  await requireAdmin("/admin/orders");
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const filter = orderFilterSchema.parse(raw);
  const [{ rows, total, page, pages }, activities, t, ta, f] = await Promise.all([
    listOrders(filter),
    listActivities(),
    getTranslations("admin.orders"),
    getTranslations("admin"),
    getFormat(),
  ]);
  const reason = (code: string) => (ta.has(`orderReason.${code}` as never) ? ta(`orderReason.${code}` as never) : code);
  const query = (extra: Record<string, string | number>) => {
    const q = new URLSearchParams();
    if (filter.activityId) q.set("activityId", filter.activityId);
    if (filter.status) q.set("status", filter.status);
    if (filter.email) q.set("email", filter.email);
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    return q.toString();
  };

  return (
    <>
      <div className={styles.header}>
        <h1>{t("title")}</h1>
        <a className="btn" href={`/api/admin/orders/export?${query({})}`} download>
          {t("export")}
        </a>
      </div>
      <form className={styles.filters} method="get" aria-label={t("filter")}>
        <label>
          {t("sale")}
          <select name="activityId" defaultValue={filter.activityId ?? ""}>
            <option value="">{t("allSales")}</option>
            {activities.map((a) => (
              <option key={a.id} value={a.id}>
                {a.title}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("status")}
          <select name="status" defaultValue={filter.status ?? ""}>
            <option value="">{t("anyStatus")}</option>
            {Object.values(OrderStatus).map((s) => (
              <option key={s} value={s}>
                {ta(`orderStatus.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("email")}
          <input name="email" type="search" defaultValue={filter.email ?? ""} placeholder={t("emailPlaceholder")} />
        </label>
        <button className="btn" type="submit">
          {t("apply")}
        </button>
      </form>
      <p className="muted" data-testid="orders-total">
        {t("total", { n: total })}
      </p>
      {rows.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>{t("number")}</th>
              <th>{t("sale")}</th>
              <th>{t("customer")}</th>
              <th>{t("qty")}</th>
              <th>{t("amount")}</th>
              <th>{t("status")}</th>
              <th>{t("created")}</th>
              <th>{t("payBy")}</th>
              <th>{t("payment")}</th>
              <th>{t("refund")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((o) => (
              <tr key={o.id} data-testid="admin-order-row">
                <td data-testid="admin-order-number">
                  {o.number}
                  <div className="muted">{t("queueNo", { n: o.sequence })}</div>
                </td>
                <td>
                  <Link href={`/admin/activities/${o.activity.id}`}>{o.activity.title}</Link>
                </td>
                <td>{o.user.email}</td>
                <td>{o.quantity}</td>
                <td>{f.money(o.amount, o.activity.product.currency)}</td>
                <td>
                  {ta(`orderStatus.${o.status}`)}
                  {o.closeReason && <div className="muted">{reason(o.closeReason)}</div>}
                </td>
                <td>{f.dateTime(o.createdAt)}</td>
                <td>{f.dateTime(o.payBy)}</td>
                <td>
                  {f.dateTime(o.paidAt)}
                  {paymentColumns(o).paymentRef && <div className="muted">{paymentColumns(o).paymentRef}</div>}
                </td>
                <td data-testid="admin-order-refund">{paymentColumns(o).refund || f.dateTime(null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className={styles.pager} aria-label={t("pages")}>
        {page > 1 && <Link href={`/admin/orders?${query({ page: page - 1 })}`}>{t("newer")}</Link>}
        <span className="muted">
          {t("page", { page, pages })}
        </span>
        {page < pages && <Link href={`/admin/orders?${query({ page: page + 1 })}`}>{t("older")}</Link>}
      </nav>
    </>
  );
}
