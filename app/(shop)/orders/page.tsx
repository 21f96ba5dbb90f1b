import type { Metadata } from "next";
import Link from "next/link";
import { requireShopper } from "@/lib/auth/session";
import { listOrdersOfUser } from "@/lib/orders/queries";
import { formatMoney } from "@/lib/format";

export const metadata: Metadata = { title: "My orders" };

export default async function OrdersPage() {
  const user = await requireShopper("/orders");
  const orders = await listOrdersOfUser(user.id);
  return (
    <>
      <h1>My orders</h1>
      {orders.length === 0 ? (
        <p className="muted">No orders yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Sale</th>
              <th>Qty</th>
              <th>Amount</th>
              <th>Status</th>
              <th>Pay by</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id} data-testid="order-row">
                <td>
                  <Link href={`/activities/${o.activity.slug}`}>{o.activity.title}</Link>
                </td>
                <td>{o.quantity}</td>
                <td>{formatMoney(o.amount, o.activity.product.currency)}</td>
                <td>
                  <Link href={`/orders/${o.id}`}>{o.status.replace("_", " ").toLowerCase()}</Link>
                </td>
                <td>{o.payBy ? o.payBy.toUTCString() : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
