import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { runControl } from "@/lib/admin/controls";
import { markReturned, queryIfDue } from "@/lib/payments/checkout";
import { handleNotification } from "@/lib/payments/notifications";
import { reconcile } from "@/lib/payments/reconcile";
import {
  buildNotification,
  getCharge,
  sandboxSecret,
  settleCharge,
  settleDeliveries,
} from "@/lib/payments/sandbox/ledger";
import { SIGNATURE_HEADER, signPayload } from "@/lib/payments/sandbox/signature";
import { sweepOnce } from "@/lib/orders/sweeper";
import { createActivity, createUsers } from "../support/flash";
import { buyOne, expectInvariants, openCheckout, pay, lifecycleTestSetup } from "../support/lifecycle";

// The active query may ask at once in tests (the interval is what is configured, not what is tested).
process.env.PAYMENT_QUERY_AFTER_SEC = "0";

const sandbox = lifecycleTestSetup(1);
const cores = sandbox.cores;

async function oneOrder(stock = 5) {
  const a = await createActivity({ stock, limit: 1 });
  const [user] = await createUsers(1);
  const [order] = await buyOne(cores[0]!, a, [user!], `pay-${Math.random().toString(36).slice(2, 10)}`);
  return { a, order: order! };
}

/** Signed like the sandbox signs, with a body of our choosing. */
function signed(body: object, opts: { secret?: string; at?: number } = {}) {
  const raw = JSON.stringify(body);
  const at = opts.at ?? Math.floor(Date.now() / 1000);
  return { raw, headers: new Headers({ [SIGNATURE_HEADER]: signPayload(opts.secret ?? sandboxSecret(), raw, at) }) };
}

const state = async (orderId: string) => ({
  order: await db().order.findUniqueOrThrow({ where: { id: orderId }, select: { status: true, paidAt: true } }),
  payments: await db().payment.findMany({
    where: { orderId },
    select: { status: true, refundReason: true },
    orderBy: { createdAt: "asc" },
  }),
});

describe("payment notifications", () => {
  it("the same signed notification delivered 50 times concurrently makes one payment", async () => {
    const { a, order } = await oneOrder();
    const ref = await openCheckout(order, "never");
    const charge = (await settleCharge(ref, "PAID"))!;
    const n = buildNotification(charge);
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => handleNotification(sandbox.provider, n.body, new Headers(n.headers))),
    );
    expect(replies.every((r) => r.status === 200 && r.body === "success")).toBe(true);
    const s = await state(order.id);
    expect(s.order.status).toBe("PAID");
    expect(s.payments).toEqual([{ status: "SUCCEEDED", refundReason: null }]);
    await expectInvariants(a.id, 5);
  });

  it("a bad signature, a wrong amount or currency, a stale timestamp or a malformed body changes nothing", async () => {
    const { order } = await oneOrder();
    const ref = await openCheckout(order, "never");
    const charge = (await settleCharge(ref, "PAID"))!;
    const good = JSON.parse(buildNotification(charge).body) as Record<string, unknown>;
    const before = await state(order.id);
    const attempts = [
      signed(good, { secret: "another-secret-that-is-long-enough-000" }),
      signed({ ...good, amount: (good.amount as number) - 1 }),
      signed({ ...good, currency: "USD" }),
      signed(good, { at: Math.floor(Date.now() / 1000) - 3600 }),
      signed({ ...good, amount: "990" }),
      { raw: JSON.stringify(good), headers: new Headers() },
      // A valid signature moved onto another body.
      { raw: JSON.stringify({ ...good, amount: 1 }), headers: signed(good).headers },
    ];
    for (const x of attempts) {
      const reply = await handleNotification(sandbox.provider, x.raw, x.headers);
      expect(reply.status).toBe(400);
    }
    expect(await state(order.id)).toEqual(before);
    expect(before.order.status).toBe("PENDING_PAYMENT");
    // The genuine notification still works afterwards.
    const ok = await handleNotification(sandbox.provider, JSON.stringify(good), signed(good).headers);
    expect(ok).toMatchObject({ status: 200, body: "success" });
    expect((await state(order.id)).order.status).toBe("PAID");
  });

  it("a notification delivered twice or late still makes one payment; a declined checkout fails its payment only", async () => {
    const { order } = await oneOrder();
    await pay(order, "twice");
    expect(await state(order.id)).toMatchObject({ order: { status: "PAID" }, payments: [{ status: "SUCCEEDED" }] });

    const second = await oneOrder();
    const ref = await openCheckout(second.order);
    await settleCharge(ref, "DECLINED");
    await settleDeliveries();
    expect(await state(second.order.id)).toMatchObject({
      order: { status: "PENDING_PAYMENT" },
      payments: [{ status: "FAILED" }],
    });
  });

  it("active query: a shopper back from the pay page sees 'paid' although the notification never came", async () => {
    const { order } = await oneOrder();
    const ref = await openCheckout(order, "never");
    await settleCharge(ref, "PAID");
    await settleDeliveries();
    expect((await state(order.id)).order.status).toBe("PENDING_PAYMENT");
    expect(await queryIfDue(order.id, sandbox.provider)).toBe(0); // not back yet: nothing asked
    await markReturned(order.userId, order.id);
    const polls = await Promise.all(Array.from({ length: 5 }, () => queryIfDue(order.id, sandbox.provider)));
    expect(polls.reduce((x, y) => x + y, 0)).toBe(1); // five polls at once ask the provider once
    expect(await state(order.id)).toMatchObject({ order: { status: "PAID" }, payments: [{ status: "SUCCEEDED" }] });
  });

  it("reconciliation repairs a dropped notification and reports what it cannot repair", async () => {
    const since = new Date(Date.now() - 1000);
    const { a, order } = await oneOrder();
    const ref = await openCheckout(order, "never");
    await settleCharge(ref, "PAID");
    await settleDeliveries();
    expect((await state(order.id)).order.status).toBe("PENDING_PAYMENT");

    // The provider's ledger says paid for an amount the order does not have: reported, not applied.
    const odd = await oneOrder();
    const oddRef = await openCheckout(odd.order, "never");
    await db().sandboxCharge.update({ where: { id: oddRef }, data: { amount: 1 } });
    await settleCharge(oddRef, "PAID");

    const run = await reconcile(sandbox.provider, { since });
    expect(run.repaired).toBeGreaterThanOrEqual(1);
    expect(run.issues).toContainEqual(expect.objectContaining({ kind: "AMOUNT_MISMATCH", ref: oddRef }));
    expect((await state(order.id)).order.status).toBe("PAID");
    expect((await state(odd.order.id)).order.status).toBe("PENDING_PAYMENT");
    await expectInvariants(a.id, 5);
    expect(await db().reconciliationRun.findUnique({ where: { id: run.id } })).toMatchObject({
      repaired: run.repaired,
    });
    // A second run finds the ledgers agreeing on the repaired payment.
    const again = await reconcile(sandbox.provider, { since });
    expect(again.issues.filter((i) => i.ref === ref)).toEqual([]);
  });
});

describe("cancelling a sale", () => {
  it("cancels unpaid orders, refunds paid ones, returns every unit and audits it", async () => {
    const a = await createActivity({ stock: 6, limit: 1 });
    const users = await createUsers(6);
    const orders = await buyOne(cores[0]!, a, users, "cancel-sale");
    await Promise.all(orders.slice(0, 3).map((o) => pay(o)));
    const admin = await db().user.create({
      data: { email: `admin-${a.id}@flash.test`, name: "Admin", passwordHash: "x", role: "ADMIN" },
    });
    const r = await runControl({ action: "cancel", activityId: a.id }, admin.id);
    expect(r.ok).toBe(true);
    const s = await expectInvariants(a.id, 6);
    expect(s.orders.map((o) => o.status).sort()).toEqual([
      "CANCELLED",
      "CANCELLED",
      "CANCELLED",
      "REFUNDED",
      "REFUNDED",
      "REFUNDED",
    ]);
    expect(s.activity.stock).toBe(6);
    for (const o of s.orders.filter((x) => x.status === "REFUNDED")) {
      expect(o.payments.map((p) => [p.status, p.refundReason])).toEqual([["REFUNDED", "SALE_CANCELLED"]]);
      const charge = await getCharge(o.payments[0]!.providerRef);
      expect(charge?.status).toBe("REFUNDED");
    }
    const audit = await db().auditLog.findFirst({ where: { activityId: a.id, action: "activity.cancel.orders" } });
    expect(audit?.details).toEqual({ cancelled: 3, refunded: 3 });
    // Nothing more for the sweeper to do.
    await sweepOnce(db(), redis(), { provider: sandbox.provider });
    expect((await expectInvariants(a.id, 6)).activity.stock).toBe(6);
  });
});
