import "server-only";
import { STATE_RECONCILER } from "@/lib/flash/reconcile";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { NON_PAYERS_KEY } from "@/lib/flash/store";
import { recordAudit } from "@/lib/admin/audit";
import { fail, type AdminResult } from "@/lib/admin/results";
import { paymentProvider } from "@/lib/payments";
import { reconcile, type ReconcileIssue } from "@/lib/payments/reconcile";

/** Shoppers flagged for letting orders expire unpaid (NONPAYER_THRESHOLD), newest first. */
export function listNonPayers() {
  return db().user.findMany({
    where: { nonPayerSince: { not: null } },
    select: { id: true, email: true, expiredOrders: true, nonPayerSince: true },
    orderBy: { nonPayerSince: "desc" },
    take: 200,
  });
}

/** Clears a shopper's flag and their count of expired orders, audited; a second clear is a conflict. */
export async function clearNonPayer(userId: string, actorId: string): Promise<AdminResult<{ userId: string }>> {
  return db()
    .$transaction(async (tx): Promise<AdminResult<{ userId: string }>> => {
      const u = await tx.user.findUnique({
        where: { id: userId },
        select: { expiredOrders: true, nonPayerSince: true },
      });
      const n = await tx.user.updateMany({
        where: { id: userId, nonPayerSince: { not: null } },
        data: { nonPayerSince: null, expiredOrders: 0 },
      });
      if (n.count !== 1) return fail("CONFLICT", "This shopper is not flagged.");
      await recordAudit(tx, {
        actorId,
        action: "user.nonpayer.clear",
        details: { userId, expiredOrders: u?.expiredOrders ?? 0, since: u?.nonPayerSince?.toISOString() ?? null },
      });
      return { ok: true, userId };
    })
    .then(async (r) => {
      if (r.ok) await redis().srem(NON_PAYERS_KEY, userId);
      return r;
    });
}

/** Reconciliation on demand (the workers also run it every RECONCILE_EVERY_SEC), over the last `days`. */
export async function runReconciliation(
  actorId: string,
  days = 7,
): Promise<AdminResult<{ repaired: number; issues: number }>> {
  const run = await reconcile(paymentProvider(), { since: new Date(Date.now() - days * 86_400_000) });
  await recordAudit(db(), {
    actorId,
    action: "payments.reconcile",
    details: { runId: run.id, repaired: run.repaired, issues: run.issues.length },
  });
  return { ok: true, repaired: run.repaired, issues: run.issues.length };
}

export async function recentReconciliations() {
  // The sale-state reconciliation (lib/flash/reconcile.ts) records its runs in the same table: not shown here.
  const runs = await db().reconciliationRun.findMany({
    where: { provider: { not: STATE_RECONCILER } },
    orderBy: { startedAt: "desc" },
    take: 10,
  });
  return runs.map((r) => ({ ...r, issues: r.issues as unknown as ReconcileIssue[] }));
}
