import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import { getFormat } from "@/lib/i18n/server";
import { requireAdmin } from "@/lib/auth/session";
import { listNonPayers, recentReconciliations } from "@/lib/admin/payments";
import styles from "@/components/admin/admin.module.css";
import { clearNonPayerForm, reconcileForm } from "./actions";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("admin.titles"))("payments") };
}

export default async function PaymentsPage() {
  await requireAdmin("/admin/payments");
  const [runs, nonPayers, t, f] = await Promise.all([
    recentReconciliations(),
    listNonPayers(),
    getTranslations("admin.payments"),
    getFormat(),
  ]);
  const latest = runs[0];
  return (
    <>
      <div className={styles.header}>
        <h1>{t("title")}</h1>
        <form action={reconcileForm}>
          <button className="btn" type="submit" data-testid="reconcile-now">
            {t("reconcileNow")}
          </button>
        </form>
      </div>

      <h2>{t("reconciliation")}</h2>
      {!latest ? (
        <p className="muted">{t("none")}</p>
      ) : (
        <>
          <p data-testid="reconcile-latest">
            {t("latest", {
              at: f.dateTime(latest.startedAt),
              provider: latest.provider,
              checked: latest.checked,
              repaired: latest.repaired,
              issues: latest.issues.length,
            })}
          </p>
          {latest.issues.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th>{t("difference")}</th>
                  <th>{t("ref")}</th>
                  <th>{t("detail")}</th>
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
            {t("earlier")}{" "}
            {runs
              .slice(1)
              .map((r) => t("earlierRun", { at: f.dateTime(r.startedAt), repaired: r.repaired, open: r.issues.length }))
              .join("; ") || t("noneEarlier")}
          </p>
        </>
      )}

      <h2>{t("nonPayers")}</h2>
      <p className="muted">{t("nonPayersIntro")}</p>
      {nonPayers.length === 0 ? (
        <p className="muted">{t("nobody")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t("shopper")}</th>
              <th>{t("expiredOrders")}</th>
              <th>{t("flagged")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {nonPayers.map((u) => (
              <tr key={u.id} data-testid="nonpayer-row">
                <td>{u.email}</td>
                <td>{u.expiredOrders}</td>
                <td>{f.dateTime(u.nonPayerSince)}</td>
                <td>
                  <form action={clearNonPayerForm}>
                    <input type="hidden" name="userId" value={u.id} />
                    <button className="btn small" type="submit">
                      {t("clear")}
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
