import type { Metadata } from "next";
import Link from "next/link";
import { requireAdmin } from "@/lib/auth/session";
import { listActivities } from "@/lib/admin/activities";
import { statusLabel, utc } from "@/components/admin/format";
import styles from "@/components/admin/admin.module.css";

export const metadata: Metadata = { title: "Admin" };

export default async function AdminHome() {
  const admin = await requireAdmin();
  const activities = await listActivities();
  return (
    <>
      <div className={styles.header}>
        <div>
          <h1>Sales</h1>
          <p className="muted">Signed in as {admin.email}.</p>
        </div>
        <div className={styles.actions}>
          <Link className="btn primary" href="/admin/activities/new">
            New sale
          </Link>
          <Link className="btn" href="/admin/products/new">
            New product
          </Link>
        </div>
      </div>
      {activities.length === 0 ? (
        <p className="muted">No sales yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Sale</th>
              <th>Product</th>
              <th>Status</th>
              <th>Start</th>
              <th>End</th>
              <th>Stock</th>
            </tr>
          </thead>
          <tbody>
            {activities.map((a) => (
              <tr key={a.id} data-testid="activity-row">
                <td>
                  <Link href={`/admin/activities/${a.id}`}>{a.title}</Link>
                </td>
                <td>{a.product.name}</td>
                <td>
                  <span className={a.status === "LIVE" ? "badge live" : "badge"}>{statusLabel(a.status)}</span>
                  {a.paused && <span className="badge"> paused</span>}
                </td>
                <td>{utc(a.startAt)}</td>
                <td>{utc(a.endAt)}</td>
                <td>
                  {a.stock} / {a.totalStock}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
