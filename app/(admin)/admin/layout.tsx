import Link from "next/link";
import type { ReactNode } from "react";
import { requireAdmin } from "@/lib/auth/session";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  await requireAdmin();
  return (
    <div>
      <nav aria-label="Admin" style={{ display: "flex", gap: 16, marginBottom: 16 }}>
        <Link href="/admin">Overview</Link>
      </nav>
      {children}
    </div>
  );
}
