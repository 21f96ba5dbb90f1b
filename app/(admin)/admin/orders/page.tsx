import type { Metadata } from "next";
import Link from "next/link";
import { requireAdmin } from "@/lib/auth/session";
import { listActivities } from "@/lib/admin/activities";
import { listOrders, paymentColumns } from "@/lib/admin/orders";
import { orderFilterSchema } from "@/lib/admin/schemas";
import { formatMoney } from "@/lib/format";
import { OrderStatus } from "@/lib/generated/prisma/enums";
import { statusLabel, utc } from "@/components/admin/format";
import styles from "@/components/admin/admin.module.css";

export const metadata: Metadata = { title: "Orders · Admin" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function OrdersPage({ searchParams }: Props) {
  await requireAdmin("/admin/orders");
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const filter = orderFilterSchema.parse(raw);
  const [{ rows, total, page, pages }, activities] = await Promise.all([listOrders(filter), listActivities()]);
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
        <h1>Orders</h1>
        <a className="btn" href={`/api/admin/orders/export?${query({})}`} download>
          Export CSV
        </a>
      </div>
      <form className={styles.filters} method="get" aria-label="Filter orders">
        <label>
          Sale
          <select name="activityId" defaultValue={filter.activityId ?? ""}>
            <option value="">All sales</option>
            {activities.map((a) => (
              <option key={a.id} value={a.id}>
                {a.title}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status" defaultValue={filter.status ?? ""}>
            <option value="">Any status</option>
            {Object.values(OrderStatus).map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Customer email
          <input name="email" type="search" defaultValue={filter.email ?? ""} placeholder="part of an email" />
        </label>
        <button className="btn" type="submit">
          Filter
        </button>
      </form>
      <p className="muted" data-testid="orders-total">
        {total} orders
      </p>
      {rows.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>Sale</th>
              <th>Customer</th>
              <th>Qty</th>
              <th>Amount</th>
              <th>Status</th>
              <th>Created</th>
              <th>Pay by</th>
              <th>Payment</th>
              <th>Refund</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((o) => (
              <tr key={o.id} data-testid="admin-order-row">
                <td>{o.sequence}</td>
                <td>
                  <Link href={`/admin/activities/${o.activity.id}`}>{o.activity.title}</Link>
                </td>
                <td>{o.user.email}</td>
                <td>{o.quantity}</td>
                <td>{formatMoney(o.amount, o.activity.product.currency)}</td>
                <td>
                  {statusLabel(o.status)}
                  {o.closeReason && <div className="muted">{statusLabel(o.closeReason)}</div>}
                </td>
                <td>{utc(o.createdAt)}</td>
                <td>{utc(o.payBy)}</td>
                <td>
                  {o.paidAt ? utc(o.paidAt) : "—"}
                  {paymentColumns(o).paymentRef && <div className="muted">{paymentColumns(o).paymentRef}</div>}
                </td>
                <td data-testid="admin-order-refund">{paymentColumns(o).refund || "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className={styles.pager} aria-label="Pages">
        {page > 1 && <Link href={`/admin/orders?${query({ page: page - 1 })}`}>← Newer</Link>}
        <span className="muted">
          Page {page} of {pages}
        </span>
        {page < pages && <Link href={`/admin/orders?${query({ page: page + 1 })}`}>Older →</Link>}
      </nav>
    </>
  );
}
