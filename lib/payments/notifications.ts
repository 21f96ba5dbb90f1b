import "server-only";
import { db } from "@/lib/db";
import { errorText, log } from "@/lib/log";
import { recordDeclined, type PaymentOutcome } from "@/lib/orders/lifecycle";
import { PaymentBatcher } from "@/lib/payments/batcher";
import { mirrorOwedStock } from "@/lib/orders/stock-mirror";
import { redis } from "@/lib/redis";
import type { LedgerEntry, PaymentProvider, ProviderReply } from "@/lib/payments/types";
import { settleRefund } from "@/lib/payments/refunds";

const payLog = log.child({ component: "payments" });

const globalForBatcher = globalThis as unknown as { paymentBatcher?: PaymentBatcher };
function batcher(): PaymentBatcher {
  globalForBatcher.paymentBatcher ??= new PaymentBatcher(db, 500, async (notices, outcomes) => {
    // PAYMENT mode took stock (or gave the admission back): Redis shows it at once, not at the next sweep.
    const moved = notices.filter((_, i) => {
      const o = outcomes[i]!;
      return (o.kind === "PAID" && o.redisOwed) || (o.kind === "REFUND_OWED" && o.reason === "SOLD_OUT_AT_PAYMENT");
    });
    if (moved.length === 0) return;
    await mirrorOwedStock(db(), redis(), { orderIds: moved.map((n) => n.orderId) }).catch((e: unknown) =>
      payLog.warn({ orders: moved.length, err: errorText(e) }, "Redis mirror failed; the sweeper retries it"),
    );
  });
  return globalForBatcher.paymentBatcher;
}

/**
 * A paid session, however the shop learnt of it (notification, active query, reconciliation): one
 * code path into the order lifecycle. A payment that must go back is refunded at once; if the
 * provider does not answer, the sweeper retries (the debt is recorded in the same transaction).
 */
/** Resolves once the Redis mirrors of the payments applied so far have run (tests). */
export function settlePayments(): Promise<void> {
  return batcher().idle();
}

export async function applyPaid(
  provider: PaymentProvider,
  entry: LedgerEntry,
  source: string,
): Promise<PaymentOutcome> {
  const outcome = await batcher().submit({
    provider: provider.name,
    ref: entry.ref,
    orderId: entry.orderId,
    amount: entry.amount,
    currency: entry.currency,
    paidAt: entry.paidAt ?? new Date(),
    payload: { source },
  });
  if (outcome.kind === "MISMATCH")
    payLog.error(
      { ref: entry.ref, order: entry.orderId, detail: outcome.detail },
      "payment does not match its order; nothing changed",
    );
  if (outcome.kind === "UNKNOWN_ORDER")
    payLog.error({ ref: entry.ref, order: entry.orderId }, "payment for an unknown order; nothing changed");
  if (outcome.kind === "REFUND_OWED") {
    payLog.warn({ ref: entry.ref, order: entry.orderId, reason: outcome.reason }, "payment refused; refunding");
    await settleRefund(provider, outcome.paymentId).catch((e: unknown) =>
      payLog.warn({ ref: entry.ref, err: errorText(e) }, "refund failed; the sweeper retries it"),
    );
  }
  return outcome;
}

/**
 * The notification endpoint's work, free of any framework: verify the signature over the raw body,
 * apply the event, and answer in the provider's format. A bad signature, a stale timestamp, a body
 * that does not parse, or an amount or currency that differs from the order's is refused and changes
 * nothing; a duplicate is accepted (the provider stops retrying) and changes nothing.
 */
export async function handleNotification(
  provider: PaymentProvider,
  rawBody: string,
  headers: Headers,
): Promise<ProviderReply> {
  const verified = await provider.verifyNotification(rawBody, headers);
  if (!verified.ok) {
    payLog.warn({ provider: provider.name, reason: verified.reason }, "notification refused");
    return provider.reply(false);
  }
  const notice = verified.notice;
  if (notice.kind === "ignored") return provider.reply(true);
  if (notice.kind === "declined") {
    await recordDeclined(db(), notice.ref);
    return provider.reply(true);
  }
  const outcome = await applyPaid(provider, notice.entry, "notification");
  return provider.reply(outcome.kind !== "MISMATCH" && outcome.kind !== "UNKNOWN_ORDER");
}
