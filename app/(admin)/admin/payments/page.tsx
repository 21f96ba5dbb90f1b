import type { Metadata } from "next";
import { requireAdmin } from "@/lib/auth/session";
import { listNonPayers, recentReconciliations } from "@/lib/admin/payments";
import { utc } from "@/components/admin/format";
import styles from "@/components/admin/admin.module.css";
import { clearNonPayerForm, reconcileForm } from "./actions";

export const metadata: Metadata = { title: "Payments · Admin" };

export default async function PaymentsPage() {
  await requireAdmin("/admin/payments");
  const [runs, nonPayers] = await Promise.all([recentReconciliations(), listNonPayers()]);
  const latest = runs[0];
  return (
    <>
      <div className={styles.header}>
        <h1>Payments</h1>
        <form action={reconcileForm}>
          <button className="btn" type="submit" data-testid="reconcile-now">
            Reconcile now
          </button>
        </form>
      </div>

      <h2>Reconciliation</h2>
      {!latest ? (
        <p className="muted">No reconciliation has run yet.</p>
      ) : (
        <>
          <p data-testid="reconcile-latest">
            Last run {utc(latest.startedAt)} ({latest.provider}): {latest.checked} provider records checked,{" "}
            {latest.repaired} repaired, {latest.issues.length} to look at.
          </p>
          {latest.issues.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th>Difference</th>
                  <th>Provider ref</th>
                  <th>Detail</th>
                </tr>
              </thead>
              <tbody>
                {latest.issues.map((i) => (
                  <tr key={`${i.kind}-${i.ref}`} data-testid="reconcile-issue">
                    <td>{i.kind.replace(/_/g, " ").toLowerCase()}</td>
                    <td>
                      <code>{i.ref}</code>
                    </td>
                    <td>{i.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="muted">
            Earlier:{" "}
            {runs
              .slice(1)
              .map((r) => `${utc(r.startedAt)} · ${r.repaired} repaired · ${r.issues.length} open`)
              .join("; ") || "none"}
          </p>
        </>
      )}

      <h2>Non-payers</h2>
      <p className="muted">
        Shoppers who let too many orders expire. Sales that refuse non-payers turn them away at admission.
      </p>
      {nonPayers.length === 0 ? (
        <p className="muted">Nobody is flagged.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Shopper</th>
              <th>Expired orders</th>
              <th>Flagged</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {nonPayers.map((u) => (
              <tr key={u.id} data-testid="nonpayer-row">
                <td>{u.email}</td>
                <td>{u.expiredOrders}</td>
                <td>{utc(u.nonPayerSince)}</td>
                <td>
                  <form action={clearNonPayerForm}>
                    <input type="hidden" name="userId" value={u.id} />
                    <button className="btn small" type="submit">
                      Clear flag
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
