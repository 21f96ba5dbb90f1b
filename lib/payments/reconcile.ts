import "server-only";
import { STATE_RECONCILER } from "@/lib/flash/reconcile";
import { db } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";
import { recordDeclined, recordRefunded } from "@/lib/orders/lifecycle";
import { applyPaid } from "@/lib/payments/notifications";
import { settleOwedRefunds } from "@/lib/payments/refunds";
import type { LedgerEntry, PaymentProvider } from "@/lib/payments/types";

export interface ReconcileIssue {
  kind:
    | "AMOUNT_MISMATCH"
    | "UNKNOWN_ORDER"
    | "PAID_AFTER_DECLINE"
    | "REFUNDED_AT_PROVIDER_ONLY"
    | "SHOP_PAID_PROVIDER_NOT"
    | "MISSING_AT_PROVIDER";
  ref: string;
  detail: string;
}

export interface ReconcileRun {
  id: string;
  checked: number;
  repaired: number;
  issues: ReconcileIssue[];
}

/**
 * Compares the provider's ledger since `since` with the shop's payments: repairs what a missed
 * notification left behind (a paid session the shop never heard of, a decline, a refund whose answer
 * was lost), then pays refunds still owed, and records what it could not repair for the admin (I6).
 */
export async function reconcile(provider: PaymentProvider, opts: { since: Date }): Promise<ReconcileRun> {
  const entries = await provider.listSince(opts.since);
  const payments = await db().payment.findMany({
    where: {
      OR: [
        { providerRef: { in: entries.map((e) => e.ref) } },
        { provider: provider.name, createdAt: { gte: opts.since } },
      ],
    },
  });
  const byRef = new Map(payments.map((p) => [p.providerRef, p]));
  const issues: ReconcileIssue[] = [];
  let repaired = 0;

  const repairPaid = async (e: LedgerEntry) => {
    const outcome = await applyPaid(provider, { ...e, status: "paid" }, "reconciliation");
    if (outcome.kind === "MISMATCH") issues.push({ kind: "AMOUNT_MISMATCH", ref: e.ref, detail: outcome.detail });
    else if (outcome.kind === "UNKNOWN_ORDER")
      issues.push({ kind: "UNKNOWN_ORDER", ref: e.ref, detail: `order ${e.orderId}` });
    else if (outcome.kind !== "DUPLICATE") repaired++;
  };

  for (const e of entries) {
    const p = byRef.get(e.ref);
    if (e.status === "paid" || e.status === "refunded") {
      if (!p || p.status === "PENDING") await repairPaid(e);
      else if (p.status === "FAILED")
        issues.push({ kind: "PAID_AFTER_DECLINE", ref: e.ref, detail: `order ${e.orderId}` });
      else if (p.amount !== e.amount)
        issues.push({ kind: "AMOUNT_MISMATCH", ref: e.ref, detail: `shop ${p.amount}, provider ${e.amount}` });
      if (e.status === "refunded" && p?.status === "SUCCEEDED") {
        if (p.refundReason && (await recordRefunded(db(), p.id, `${e.ref}:reconciled`))) repaired++;
        else if (!p.refundReason)
          issues.push({ kind: "REFUNDED_AT_PROVIDER_ONLY", ref: e.ref, detail: `order ${e.orderId}` });
      }
    } else if (e.status === "declined" || e.status === "expired") {
      if (p?.status === "PENDING" && (await recordDeclined(db(), e.ref))) repaired++;
      if (p?.status === "SUCCEEDED")
        issues.push({ kind: "SHOP_PAID_PROVIDER_NOT", ref: e.ref, detail: `provider says ${e.status}` });
    }
  }
  const listed = new Set(entries.map((e) => e.ref));
  for (const p of payments) {
    if (listed.has(p.providerRef) || p.status === "PENDING" || p.status === "FAILED") continue;
    const e = await provider.retrieve(p.providerRef);
    if (!e) issues.push({ kind: "MISSING_AT_PROVIDER", ref: p.providerRef, detail: `payment ${p.id}` });
    else if (e.status !== "paid" && e.status !== "refunded")
      issues.push({ kind: "SHOP_PAID_PROVIDER_NOT", ref: p.providerRef, detail: `provider says ${e.status}` });
  }
  repaired += await settleOwedRefunds(provider);

  const run = await db().reconciliationRun.create({
    data: {
      provider: provider.name,
      finishedAt: new Date(),
      checked: entries.length,
      repaired,
      issues: issues as unknown as Prisma.InputJsonValue,
    },
  });
  return { id: run.id, checked: entries.length, repaired, issues };
}

export async function latestReconciliation() {
  return db().reconciliationRun.findFirst({ where: { provider: { not: STATE_RECONCILER } }, orderBy: { startedAt: "desc" } });
}
