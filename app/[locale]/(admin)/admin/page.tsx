import type { Metadata } from "next";
import Link from "next/link";
import { requireAdmin } from "@/lib/auth/session";
import { listActivities } from "@/lib/admin/activities";
import { getTranslations } from "next-intl/server";
import { getFormat } from "@/lib/i18n/server";
import styles from "@/components/admin/admin.module.css";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("admin.titles"))("home") };
}

export default async function AdminHome() {
  const admin = await requireAdmin();
  const [activities, t, ta, f] = await Promise.all([
    listActivities(),
    getTranslations("admin.home"),
    getTranslations("admin"),
    getFormat(),
  ]);
  return (
    <>
      <div className={styles.header}>
        <div>
          <h1>{t("title")}</h1>
          <p className="muted">
            {t("signedInAs", { email: admin.email ?? "" })} {t("zoneNote", { zone: f.timeZone })}
          </p>
        </div>
        <div className={styles.actions}>
          <Link className="btn primary" href="/admin/activities/new">
            {t("newSale")}
          </Link>
          <Link className="btn" href="/admin/products/new">
            {t("newProduct")}
          </Link>
        </div>
      </div>
      {activities.length === 0 ? (
        <p className="muted">{t("none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t("sale")}</th>
              <th>{t("product")}</th>
              <th>{t("status")}</th>
              <th>{t("start")}</th>
              <th>{t("end")}</th>
              <th>{t("stock")}</th>
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
                  <span className={a.status === "LIVE" ? "badge live" : "badge"}>{ta(`activityStatus.${a.status}`)}</span>
                  {a.paused && <span className="badge"> {t("paused")}</span>}
                </td>
                <td>{f.dateTime(a.startAt)}</td>
                <td>{f.dateTime(a.endAt)}</td>
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
