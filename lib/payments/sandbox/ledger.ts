import "server-only";
import { randomBytes } from "node:crypto";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { errorText, log } from "@/lib/log";
import type { SandboxCharge } from "@/lib/generated/prisma/client";
import type { CheckoutRequest, LedgerEntry, SandboxDelivery } from "@/lib/payments/types";
import { SIGNATURE_HEADER, sandboxSecretFrom, signPayload } from "@/lib/payments/sandbox/signature";

/*
 * The sandbox payment provider itself: it stands in for an external provider and works offline.
 * It keeps its own ledger (sandbox_charges), hosts the pay page (/pay/sandbox/[id]) and calls the
 * shop back asynchronously with signed notifications, which it may deliver late, twice or never
 * (SANDBOX_DELIVERY, or per checkout for tests and demos). The shop only talks to it through
 * lib/payments/sandbox/provider.ts, as it would to a real provider.
 */

const sandboxLog = log.child({ component: "sandbox-provider" });

/** The secret shared by the sandbox and the shop's notification endpoint. */
let secret: string | undefined;
export function sandboxSecret(): string {
  secret ??= sandboxSecretFrom(env());
  return secret;
}

export function toEntry(c: SandboxCharge): LedgerEntry {
  const status = ({ OPEN: "open", PAID: "paid", DECLINED: "declined", REFUNDED: "refunded" } as const)[c.status];
  return { ref: c.id, orderId: c.reference, amount: c.amount, currency: c.currency, status, paidAt: c.paidAt };
}

export async function createCharge(req: CheckoutRequest & { notifyUrl: string }): Promise<SandboxCharge> {
  return db().sandboxCharge.create({
    data: {
      id: `sbx_cs_${randomBytes(18).toString("base64url")}`,
      reference: req.orderId,
      amount: req.amount,
      currency: req.currency,
      notifyUrl: req.notifyUrl,
      returnUrl: req.returnUrl,
      delivery: req.delivery ?? env().SANDBOX_DELIVERY,
    },
  });
}

export function getCharge(id: string): Promise<SandboxCharge | null> {
  return db().sandboxCharge.findUnique({ where: { id } });
}

/** The shopper pressed "Pay" (or "Decline") on the pay page: OPEN → PAID | DECLINED once, then notify. */
export async function settleCharge(
  id: string,
  outcome: "PAID" | "DECLINED",
  delivery?: SandboxDelivery,
): Promise<SandboxCharge | null> {
  const n = await db().sandboxCharge.updateMany({
    where: { id, status: "OPEN" },
    data: { status: outcome, ...(outcome === "PAID" ? { paidAt: new Date() } : {}), ...(delivery ? { delivery } : {}) },
  });
  const charge = await getCharge(id);
  if (n.count === 1 && charge) scheduleDelivery(charge);
  return charge;
}

export async function refundCharge(id: string): Promise<SandboxCharge | null> {
  await db().sandboxCharge.updateMany({
    where: { id, status: "PAID" },
    data: { status: "REFUNDED", refundedAt: new Date() },
  });
  return getCharge(id);
}

export async function listCharges(since: Date): Promise<SandboxCharge[]> {
  return db().sandboxCharge.findMany({ where: { createdAt: { gte: since } }, orderBy: { createdAt: "asc" } });
}

/** The signed notification for a settled charge, as the sandbox sends it. */
export function buildNotification(c: SandboxCharge, nowSec = Math.floor(Date.now() / 1000)) {
  const body = JSON.stringify({
    id: `evt_${randomBytes(12).toString("base64url")}`,
    type: c.status === "DECLINED" ? "charge.declined" : "charge.paid",
    session: c.id,
    reference: c.reference,
    amount: c.amount,
    currency: c.currency,
    paid_at: c.paidAt?.toISOString() ?? null,
  });
  return {
    body,
    headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signPayload(sandboxSecret(), body, nowSec) },
  };
}

type Transport = (
  url: string,
  body: string,
  headers: Record<string, string>,
) => Promise<{ status: number; body: string }>;

const httpTransport: Transport = async (url, body, headers) => {
  const res = await fetch(url, { method: "POST", body, headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
};
let transport: Transport = httpTransport;

/** Tests deliver in-process instead of over HTTP; pass nothing to go back to HTTP. */
export function setSandboxTransport(t?: Transport): void {
  transport = t ?? httpTransport;
}

const pending = new Set<Promise<void>>();
/** Resolves once every notification scheduled so far was delivered or given up (tests, shutdown). */
export async function settleDeliveries(): Promise<void> {
  while (pending.size) await Promise.all([...pending]);
}

function scheduleDelivery(c: SandboxCharge) {
  const mode = c.delivery as SandboxDelivery;
  if (mode === "never") return sandboxLog.info({ charge: c.id }, "notification withheld (delivery=never)");
  const copies = mode === "twice" ? 2 : 1;
  const delay = mode === "late" ? env().SANDBOX_LATE_MS : 0;
  for (let i = 0; i < copies; i++) {
    const p: Promise<void> = new Promise<void>((r) => setTimeout(r, delay))
      .then(() => deliver(c))
      .finally(() => pending.delete(p));
    pending.add(p);
  }
}

/** Posts the notification until the shop accepts it, like a provider's retry schedule (shortened). */
async function deliver(c: SandboxCharge, attempts = 4): Promise<void> {
  for (let i = 1; i <= attempts; i++) {
    const n = buildNotification(c);
    try {
      const res = await transport(c.notifyUrl, n.body, n.headers);
      if (res.status === 200 && res.body === "success") return;
      sandboxLog.warn({ charge: c.id, status: res.status, attempt: i }, "notification not accepted");
    } catch (e) {
      sandboxLog.warn({ charge: c.id, attempt: i, err: errorText(e) }, "notification failed");
    }
    await new Promise((r) => setTimeout(r, 250 * 4 ** (i - 1)));
  }
  sandboxLog.error({ charge: c.id }, "notification given up; the shop's active query or reconciliation will find it");
}
