import "server-only";
import Stripe from "stripe";
import { env } from "@/lib/env";
import type { LedgerEntry, PaymentProvider, Verified } from "@/lib/payments/types";

export interface StripeOptions {
  secretKey: string;
  webhookSecret: string;
  /** Another Stripe-speaking server (a local one in tests); unset: api.stripe.com. */
  apiBase?: string;
}

function toEntry(s: Stripe.Checkout.Session): LedgerEntry {
  const status =
    s.payment_status === "paid" || s.payment_status === "no_payment_required"
      ? "paid"
      : s.status === "expired"
        ? "expired"
        : "open";
  return {
    ref: s.id,
    orderId: s.client_reference_id ?? s.metadata?.orderId ?? "",
    amount: s.amount_total ?? 0,
    currency: (s.currency ?? "").toUpperCase(),
    status,
    paidAt: status === "paid" ? new Date() : null,
  };
}

/**
 * Stripe through its official SDK: one Checkout Session per order (the session id is the payment's
 * provider ref), webhooks verified with stripe.webhooks.constructEvent, refunds against the session's
 * payment intent with an idempotency key. STRIPE_API_BASE points the same code at another server.
 */
export function stripeProvider(opts?: StripeOptions): PaymentProvider {
  const e = env();
  const o: StripeOptions = opts ?? {
    secretKey: e.STRIPE_SECRET_KEY ?? "",
    webhookSecret: e.STRIPE_WEBHOOK_SECRET ?? "",
    ...(e.STRIPE_API_BASE ? { apiBase: e.STRIPE_API_BASE } : {}),
  };
  const api = o.apiBase ? new URL(o.apiBase) : null;
  const stripe = new Stripe(o.secretKey, {
    maxNetworkRetries: 2,
    telemetry: false,
    ...(api
      ? {
          host: api.hostname,
          port: api.port || (api.protocol === "https:" ? 443 : 80),
          protocol: api.protocol === "https:" ? ("https" as const) : ("http" as const),
        }
      : {}),
  });

  return {
    name: "stripe",
    async createCheckout(req) {
      const session = await stripe.checkout.sessions.create({
        mode: "payment",
        client_reference_id: req.orderId,
        metadata: { orderId: req.orderId },
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: req.currency.toLowerCase(),
              unit_amount: req.amount,
              product_data: { name: req.description },
            },
          },
        ],
        success_url: req.returnUrl,
        cancel_url: req.returnUrl,
      });
      if (!session.url) throw new Error(`stripe session ${session.id} has no url`);
      return { ref: session.id, url: session.url };
    },
    async verifyNotification(rawBody, headers): Promise<Verified> {
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(
          rawBody,
          headers.get("stripe-signature") ?? "",
          o.webhookSecret,
          env().PAYMENT_WEBHOOK_TOLERANCE_SEC,
        );
      } catch (err) {
        if (!(err instanceof Stripe.errors.StripeSignatureVerificationError)) return { ok: false, reason: "BAD_INPUT" };
        return { ok: false, reason: /tolerance/i.test(err.message) ? "STALE" : "BAD_SIGNATURE" };
      }
      switch (event.type) {
        case "checkout.session.completed":
        case "checkout.session.async_payment_succeeded": {
          const entry = toEntry(event.data.object);
          if (entry.status !== "paid") return { ok: true, notice: { kind: "ignored", eventId: event.id } };
          return { ok: true, notice: { kind: "paid", entry, eventId: event.id } };
        }
        case "checkout.session.expired":
        case "checkout.session.async_payment_failed":
          return { ok: true, notice: { kind: "declined", ref: event.data.object.id, eventId: event.id } };
        default:
          return { ok: true, notice: { kind: "ignored", eventId: event.id } };
      }
    },
    reply: (accepted) =>
      accepted
        ? { status: 200, body: JSON.stringify({ received: true }), contentType: "application/json" }
        : { status: 400, body: JSON.stringify({ error: "not accepted" }), contentType: "application/json" },
    async retrieve(ref) {
      try {
        return toEntry(await stripe.checkout.sessions.retrieve(ref));
      } catch (err) {
        if (err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode === 404) return null;
        throw err;
      }
    },
    async refund(ref, amount, idempotencyKey) {
      const session = await stripe.checkout.sessions.retrieve(ref);
      const intent = typeof session.payment_intent === "string" ? session.payment_intent : session.payment_intent?.id;
      if (!intent) throw new Error(`stripe session ${ref} has no payment intent to refund`);
      const refund = await stripe.refunds.create({ payment_intent: intent, amount }, { idempotencyKey });
      return { refundRef: refund.id };
    },
    async listSince(since) {
      const sessions = await stripe.checkout.sessions
        .list({ created: { gte: Math.floor(since.getTime() / 1000) }, limit: 100 })
        .autoPagingToArray({ limit: 10_000 });
      return sessions.map(toEntry);
    },
  };
}
