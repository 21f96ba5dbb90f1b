import "server-only";
import { db } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";

/**
 * What the audit trail records, as "<target>.<verb>": product.create|update|archive|restore,
 * activity.create|update|preheat|schedule|start|pause|resume|extend|restock|end|cancel, and
 * "<…>.reverted" when a change was compensated (see lib/admin/controls.ts).
 */
export type AuditAction = `product.${string}` | `activity.${string}` | `user.${string}` | `payments.${string}` | `gate.${string}`;

export interface AuditEntry {
  actorId: string;
  action: AuditAction;
  activityId?: string;
  productId?: string;
  details?: Prisma.InputJsonValue;
}

type Tx = Pick<Prisma.TransactionClient, "auditLog">;

/** Records an entry; pass the transaction of the change so the two commit together. */
export async function recordAudit(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorId: entry.actorId,
      action: entry.action,
      activityId: entry.activityId ?? null,
      productId: entry.productId ?? null,
      details: entry.details ?? {},
    },
  });
}

export interface AuditView {
  id: string;
  at: string;
  action: string;
  actor: string;
  activity: { id: string; title: string } | null;
  productId: string | null;
  details: unknown;
}

export async function listAudit(opts: { activityId?: string; take?: number } = {}): Promise<AuditView[]> {
  const rows = await db().auditLog.findMany({
    where: opts.activityId ? { activityId: opts.activityId } : {},
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: opts.take ?? 100,
    include: { actor: { select: { email: true } }, activity: { select: { id: true, title: true } } },
  });
  return rows.map((r) => ({
    id: r.id,
    at: r.createdAt.toISOString(),
    action: r.action,
    actor: r.actor.email,
    activity: r.activity,
    productId: r.productId,
    details: r.details,
  }));
}
