import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { sweepOnce } from "@/lib/orders/sweeper";
import { setPaymentProvider } from "@/lib/payments";
import { startCheckout } from "@/lib/payments/checkout";
import { handleNotification } from "@/lib/payments/notifications";
import { reconcile } from "@/lib/payments/reconcile";
import { stripeProvider } from "@/lib/payments/stripe/provider";
import type { PaymentProvider } from "@/lib/payments/types";
import { createActivity, createCores, createUsers } from "../support/flash";
import { startFakeStripe } from "../support/fake-stripe";
import { buyOne, expectInvariants } from "../support/lifecycle";

const WEBHOOK_SECRET = "whsec_test_0123456789abcdef0123456789abcdef";
const { cores, close } = createCores(1);
let fake: Awaited<ReturnType<typeof startFakeStripe>>;
let provider: PaymentProvider;
// The SDK's own signer, as the issue asks: events signed exactly as Stripe signs them.
const sign = (payload: string, timestamp?: number) =>
  new Headers({
    "stripe-signature": Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: WEBHOOK_SECRET,
      ...(timestamp ? { timestamp } : {}),
    }),
  });

beforeAll(async () => {
  fake = await startFakeStripe();
  provider = stripeProvider({ secretKey: "sk_test_fake", webhookSecret: WEBHOOK_SECRET, apiBase: fake.apiBase });
  setPaymentProvider(provider);
});
afterAll(async () => {
  setPaymentProvider();
  close();
  await fake.close();
});

async function checkout(n: number) {
  const a = await createActivity({ stock: n, limit: 1 });
  const users = await createUsers(n);
  const orders = await buyOne(cores[0]!, a, users, `stripe-${Math.random().toString(36).slice(2, 10)}`);
  const refs: string[] = [];
  for (const o of orders) {
    const r = await startCheckout(o.userId, o.id, { provider });
    if (!r.ok) throw new Error(r.code);
    expect(r.url).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    refs.push([...fake.sessions.values()].find((s) => s.client_reference_id === o.id)!.id);
  }
  return { a, orders, refs };
}

describe("stripe provider (official SDK against a local Stripe-speaking server)", () => {
  it("a Checkout Session per order; the signed webhook, sent 50 times, pays it once", async () => {
    const { a, orders, refs } = await checkout(1);
    const payload = fake.pay(refs[0]!);
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => handleNotification(provider, payload, sign(payload))),
    );
    expect(replies.every((r) => r.status === 200 && r.body === '{"received":true}')).toBe(true);
    const o = await db().order.findUniqueOrThrow({ where: { id: orders[0]!.id }, include: { payments: true } });
    expect(o.status).toBe("PAID");
    expect(o.payments.map((p) => [p.provider, p.providerRef, p.status])).toEqual([["stripe", refs[0], "SUCCEEDED"]]);
    await expectInvariants(a.id, 1);
  });

  it("a forged or stale signature changes nothing; a payment after expiry is refunded through the refunds API", async () => {
    const { a, orders, refs } = await checkout(2);
    const payload = fake.pay(refs[0]!);
    const forged = new Headers({
      "stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload, secret: "whsec_someone_else" }),
    });
    expect((await handleNotification(provider, payload, forged)).status).toBe(400);
    expect(
      (await handleNotification(provider, payload, sign(payload, Math.floor(Date.now() / 1000) - 3600))).status,
    ).toBe(400);
    expect(await db().payment.findUniqueOrThrow({ where: { providerRef: refs[0]! } })).toMatchObject({
      status: "PENDING",
    });

    await sweepOnce(db(), redis(), { now: new Date(orders[1]!.payBy!.getTime() + 1000), provider });
    const late = fake.pay(refs[1]!);
    expect((await handleNotification(provider, late, sign(late))).status).toBe(200);
    const p = await db().payment.findUniqueOrThrow({ where: { providerRef: refs[1]! } });
    expect(p).toMatchObject({ status: "REFUNDED", refundReason: "ORDER_EXPIRED" });
    expect([...fake.refunds.values()].map((r) => [r.id, r.amount])).toEqual([[p.refundRef, p.amount]]);
    await expectInvariants(a.id, 2);
  });

  it("reconciliation finds a session paid at Stripe whose webhook never came", async () => {
    const since = new Date(Date.now() - 5_000);
    const { a, orders, refs } = await checkout(1);
    fake.pay(refs[0]!); // the webhook is dropped
    expect((await db().order.findUniqueOrThrow({ where: { id: orders[0]!.id } })).status).toBe("PENDING_PAYMENT");
    const run = await reconcile(provider, { since });
    expect(run.repaired).toBeGreaterThanOrEqual(1);
    expect((await db().order.findUniqueOrThrow({ where: { id: orders[0]!.id } })).status).toBe("PAID");
    await expectInvariants(a.id, 1);
  });
});
