import Link from "next/link";
import { getTranslations } from "next-intl/server";
import type { ReactNode } from "react";
import { requireAdmin } from "@/lib/auth/session";
import styles from "@/components/admin/admin.module.css";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  await requireAdmin();
  const t = await getTranslations("admin.nav");
  return (
    <div>
      <nav aria-label={t("label")} className={styles.nav}>
        <Link href="/admin">{t("sales")}</Link>
        <Link href="/admin/products">{t("products")}</Link>
        <Link href="/admin/orders">{t("orders")}</Link>
        <Link href="/admin/blocklist">{t("blocklist")}</Link>
        <Link href="/admin/partners">{t("partners")}</Link>
        <Link href="/admin/payments">{t("payments")}</Link>
        <Link href="/admin/audit">{t("audit")}</Link>
      </nav>
      {children}
    </div>
  );
}
