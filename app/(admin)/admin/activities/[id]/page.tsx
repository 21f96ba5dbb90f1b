import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { requireAdmin } from "@/lib/auth/session";
import { getActivity } from "@/lib/admin/activities";
import { listAudit } from "@/lib/admin/audit";
import { readDashboard } from "@/lib/admin/dashboard";
import { idSchema } from "@/lib/admin/schemas";
import { formatMoney } from "@/lib/format";
import { AuditTable } from "@/components/admin/audit-table";
import { ActivityDashboard } from "@/components/admin/dashboard";
import { utc } from "@/components/admin/format";
import styles from "@/components/admin/admin.module.css";

export const metadata: Metadata = { title: "Sale dashboard · Admin" };

type Props = { params: Promise<{ id: string }> };

export default async function ActivityPage({ params }: Props) {
  const { id } = await params;
  await requireAdmin(`/admin/activities/${id}`);
  if (!idSchema.safeParse(id).success) notFound();
  const [a, snapshot, audit] = await Promise.all([
    getActivity(id),
    readDashboard(id),
    listAudit({ activityId: id, take: 50 }),
  ]);
  if (!a || !snapshot) notFound();
  const editable = a.status !== "ENDED" && a.status !== "CANCELLED";
  return (
    <>
      <div className={styles.header}>
        <div>
          <h1>{a.title}</h1>
          <p className="muted">
            {a.product.name} · {formatMoney(a.salePrice, a.product.currency)} · {a.deductionMode.toLowerCase()} mode ·
            limit {a.perUserLimit} per person · {utc(a.startAt)} → {utc(a.endAt)}
          </p>
        </div>
        <div className={styles.actions}>
          {a.status !== "DRAFT" && (
            <Link className="btn" href={`/activities/${a.slug}`}>
              Shop page
            </Link>
          )}
          <Link className="btn" href={`/admin/orders?activityId=${a.id}`}>
            Orders
          </Link>
          {editable && (
            <Link className="btn" href={`/admin/activities/${a.id}/edit`}>
              Edit
            </Link>
          )}
        </div>
      </div>
      <ActivityDashboard initial={snapshot} />
      <h2>Audit trail</h2>
      <AuditTable entries={audit} showActivity={false} />
    </>
  );
}
