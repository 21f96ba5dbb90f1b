import Link from "next/link";
import { getTranslations } from "next-intl/server";
import styles from "@/components/admin/admin.module.css";
import type { AuditView } from "@/lib/admin/audit";
import type { Formatter } from "@/lib/format";
import { getFormat } from "@/lib/i18n/server";

type Translate = Awaited<ReturnType<typeof getTranslations<"admin.audit">>>;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const MONEY = new Set(["salePrice", "listPrice"]);

/** One recorded value as an admin reads it: times in the shop's zone, prices in yuan, words translated. */
function valueOf(key: string, v: unknown, t: Translate, f: Formatter): string {
  if (v === null || v === undefined || v === "") return f.dateTime(null);
  if (typeof v === "boolean") return t(v ? "yes" : "no");
  if (typeof v === "number" && MONEY.has(key)) return f.money(v, "CNY");
  if (typeof v === "string" && ISO.test(v)) return f.dateTime(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** An entry's details as "field: value" lines, a change as "field: before → after" (lib/admin/audit.ts records both shapes). */
function detailLines(details: unknown, t: Translate, f: Formatter): string[] {
  if (!details || typeof details !== "object") return [];
  return Object.entries(details as Record<string, unknown>).map(([key, v]) => {
    const label = t.has(`field.${key}` as never) ? t(`field.${key}` as never) : key;
    const change = v && typeof v === "object" && "from" in v && "to" in v ? (v as { from: unknown; to: unknown }) : null;
    return change
      ? `${label}: ${valueOf(key, change.from, t, f)} → ${valueOf(key, change.to, t, f)}`
      : `${label}: ${valueOf(key, v, t, f)}`;
  });
}

/** "activity.restock.reverted" → the words for it; an action without words shows as recorded. */
function actionOf(action: string, t: Translate): string {
  const key = `action.${action.replace(/\./g, "_")}`;
  return t.has(key as never) ? t(key as never) : action;
}

export async function AuditTable({ entries, showActivity = true }: { entries: AuditView[]; showActivity?: boolean }) {
  const [t, f] = await Promise.all([getTranslations("admin.audit"), getFormat()]);
  if (entries.length === 0) return <p className="muted">{t("empty")}</p>;
  return (
    <table data-testid="audit-table">
      <thead>
        <tr>
          <th>{t("when")}</th>
          <th>{t("who")}</th>
          <th>{t("did")}</th>
          {showActivity && <th>{t("target")}</th>}
          <th>{t("details")}</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.id} data-testid="audit-row" data-action={e.action}>
            <td>{f.dateTime(e.at)}</td>
            <td>{e.actor}</td>
            <td>{actionOf(e.action, t)}</td>
            {showActivity && (
              <td>
                {e.activity ? (
                  <Link href={`/admin/activities/${e.activity.id}`}>{e.activity.title}</Link>
                ) : e.productId ? (
                  <Link href={`/admin/products/${e.productId}`}>{t("product")}</Link>
                ) : (
                  f.dateTime(null)
                )}
              </td>
            )}
            <td className={styles.details}>
              <ul className={styles.detailList}>
                {detailLines(e.details, t, f).map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
