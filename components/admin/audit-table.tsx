import Link from "next/link";
import { utc } from "@/components/admin/format";
import styles from "@/components/admin/admin.module.css";
import type { AuditView } from "@/lib/admin/audit";

export function AuditTable({ entries, showActivity = true }: { entries: AuditView[]; showActivity?: boolean }) {
  if (entries.length === 0) return <p className="muted">Nothing recorded yet.</p>;
  return (
    <table data-testid="audit-table">
      <thead>
        <tr>
          <th>When</th>
          <th>Who</th>
          <th>Did</th>
          {showActivity && <th>Sale / product</th>}
          <th>Details</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.id} data-testid="audit-row">
            <td>{utc(e.at)}</td>
            <td>{e.actor}</td>
            <td>{e.action}</td>
            {showActivity && (
              <td>
                {e.activity ? (
                  <Link href={`/admin/activities/${e.activity.id}`}>{e.activity.title}</Link>
                ) : e.productId ? (
                  <Link href={`/admin/products/${e.productId}`}>product</Link>
                ) : (
                  "—"
                )}
              </td>
            )}
            <td className={styles.details}>{JSON.stringify(e.details)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
