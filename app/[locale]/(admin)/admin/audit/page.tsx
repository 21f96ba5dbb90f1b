import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import { requireAdmin } from "@/lib/auth/session";
import { listAudit } from "@/lib/admin/audit";
import { AuditTable } from "@/components/admin/audit-table";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("admin.titles"))("audit") };
}

export default async function AuditPage() {
  await requireAdmin("/admin/audit");
  const [entries, t] = await Promise.all([listAudit({ take: 200 }), getTranslations("admin.audit")]);
  return (
    <>
      <h1>{t("title")}</h1>
      <p className="muted">{t("intro")}</p>
      <AuditTable entries={entries} />
    </>
  );
}
