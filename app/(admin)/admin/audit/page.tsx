import type { Metadata } from "next";
import { requireAdmin } from "@/lib/auth/session";
import { listAudit } from "@/lib/admin/audit";
import { AuditTable } from "@/components/admin/audit-table";

export const metadata: Metadata = { title: "Audit trail · Admin" };

export default async function AuditPage() {
  await requireAdmin("/admin/audit");
  const entries = await listAudit({ take: 200 });
  return (
    <>
      <h1>Audit trail</h1>
      <p className="muted">Who changed what, newest first (the latest 200 entries).</p>
      <AuditTable entries={entries} />
    </>
  );
}
