import "server-only";
import { env } from "@/lib/env";
import type { PaymentProvider } from "@/lib/payments/types";
import { sandboxProvider } from "@/lib/payments/sandbox/provider";
import { stripeProvider } from "@/lib/payments/stripe/provider";

/** Where providers send shoppers back and notifications to. */
export function publicBaseUrl(): string {
  const e = env();
  return (e.PUBLIC_BASE_URL ?? e.NEXTAUTH_URL ?? "http://localhost:3000").replace(/\/$/, "");
}

const globalForPayments = globalThis as unknown as { paymentProvider?: PaymentProvider };

/** The provider PAYMENT_PROVIDER selects; one per process. */
export function paymentProvider(): PaymentProvider {
  globalForPayments.paymentProvider ??=
    env().PAYMENT_PROVIDER === "stripe" ? stripeProvider() : sandboxProvider(publicBaseUrl());
  return globalForPayments.paymentProvider;
}

/** Tests swap the provider (e.g. Stripe against a local server); pass nothing to go back to the configured one. */
export function setPaymentProvider(p?: PaymentProvider): void {
  globalForPayments.paymentProvider = p;
}
