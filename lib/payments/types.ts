import "server-only";

/** What the shop asks a provider for: a hosted checkout for one order. */
export interface CheckoutRequest {
  orderId: string;
  amount: number;
  currency: string;
  description: string;
  /** Where the provider sends the shopper back after paying (or declining). */
  returnUrl: string;
  /** Provider-specific knob for tests and demos (the sandbox's notification delivery). */
  delivery?: SandboxDelivery;
}

export type SandboxDelivery = "normal" | "late" | "twice" | "never";

export interface Checkout {
  /** The provider's id of the checkout session; the payment's provider ref. */
  ref: string;
  /** The provider's hosted pay page. */
  url: string;
}

/** A provider's view of one checkout session (its ledger). */
export interface LedgerEntry {
  ref: string;
  orderId: string;
  amount: number;
  currency: string;
  status: "open" | "paid" | "declined" | "expired" | "refunded";
  paidAt: Date | null;
}

/** A verified notification, normalised. */
export type Notice =
  | { kind: "paid"; entry: LedgerEntry; eventId: string }
  | { kind: "declined"; ref: string; eventId: string }
  | { kind: "ignored"; eventId: string };

export type Verified = { ok: true; notice: Notice } | { ok: false; reason: "BAD_SIGNATURE" | "STALE" | "BAD_INPUT" };

export interface ProviderReply {
  status: number;
  body: string;
  contentType: string;
}

/**
 * A payment provider as the shop sees it. The shop's code path is the same for every provider; only
 * this object changes with PAYMENT_PROVIDER.
 */
export interface PaymentProvider {
  readonly name: "sandbox" | "stripe";
  createCheckout(req: CheckoutRequest): Promise<Checkout>;
  /** Checks the signature over the raw body (and its age), then parses the event. */
  verifyNotification(rawBody: string, headers: Headers): Promise<Verified>;
  /** The answer the provider expects: accepted (it stops retrying) or not (it retries). */
  reply(accepted: boolean): ProviderReply;
  /** Active query: the provider's current view of one session. */
  retrieve(ref: string): Promise<LedgerEntry | null>;
  /** Returns the money of a paid session; idempotent per key. */
  refund(ref: string, amount: number, idempotencyKey: string): Promise<{ refundRef: string }>;
  /** The provider's ledger since a time, for reconciliation. */
  listSince(since: Date): Promise<LedgerEntry[]>;
}
