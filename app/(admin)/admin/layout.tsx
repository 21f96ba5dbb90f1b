import Link from "next/link";
import type { ReactNode } from "react";
import { requireAdmin } from "@/lib/auth/session";
import styles from "@/components/admin/admin.module.css";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  await requireAdmin();
  return (
    <div>
      <nav aria-label="Admin" className={styles.nav}>
        <Link href="/admin">Sales</Link>
        <Link href="/admin/products">Products</Link>
        <Link href="/admin/orders">Orders</Link>
        <Link href="/admin/blocklist">Blocklist</Link>
        <Link href="/admin/payments">Payments</Link>
        <Link href="/admin/audit">Audit trail</Link>
      </nav>
      {children}
    </div>
  );
}
