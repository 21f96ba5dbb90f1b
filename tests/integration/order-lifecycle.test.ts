import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { activityKeys } from "@/lib/flash/store";
import { preheatActivity } from "@/lib/flash/preheat";
import { expireDue, recordPayment } from "@/lib/orders/lifecycle";
import { sweepOnce } from "@/lib/orders/sweeper";
import { settleCharge } from "@/lib/payments/sandbox/ledger";
import { createActivity, createUsers } from "../support/flash";
import { buyOne, expectInvariants, openCheckout, pay, payOpened, lifecycleTestSetup } from "../support/lifecycle";

const sandbox = lifecycleTestSetup(2);
const cores = sandbox.cores;

/** A sweep as if the clock stood just after every pay-by so far: deterministic, no waiting. */
const sweepAfterPayBy = async (activityId: string) => {
  const last = await db().order.aggregate({ where: { activityId }, _max: { payBy: true } });
  return sweepOnce(db(), redis(), { now: new Date(last._max.payBy!.getTime() + 1000), provider: sandbox.provider });
};

describe.each(["ORDER", "RESERVE"] as const)("%s mode: pay, expire, pay late", (mode) => {
  it("expired units return to the sale exactly once; late payers are refunded; I1–I4, I6 hold at every step", async () => {
    const a = await createActivity({ stock: 20, limit: 1, mode });
    const users = await createUsers(60);
    const orders = await buyOne(cores[0]!, a, users.slice(0, 40), `${mode}-a`);
    expect(orders).toHaveLength(20);
    await expectInvariants(a.id, 20);

    const [payers, late, idle] = [orders.slice(0, 7), orders.slice(7, 13), orders.slice(13)];
    const lateRefs = await Promise.all(late.map((o) => openCheckout(o)));
    await Promise.all(payers.map((o) => pay(o)));
    let s = await expectInvariants(a.id, 20);
    expect(s.orders.filter((o) => o.status === "PAID")).toHaveLength(7);
    expect(s.activity.stock).toBe(0);

    await sweepAfterPayBy(a.id);
    s = await expectInvariants(a.id, 20);
    expect(s.orders.filter((o) => o.status === "EXPIRED")).toHaveLength(13);
    expect(s.activity.stock).toBe(13);
    expect(s.meta.soldOutAt).toBeUndefined(); // back on sale

    // A second and a third sweep, also racing each other, find nothing more to return.
    await Promise.all([sweepAfterPayBy(a.id), sweepAfterPayBy(a.id)]);
    expect((await expectInvariants(a.id, 20)).activity.stock).toBe(13);
    // Redis lost the sale: the preheat rebuilds it from PostgreSQL, and a mirror still owed adds nothing.
    await redis().del(activityKeys(a.id).meta);
    await preheatActivity(db(), redis(), a.id);
    await db().order.updateMany({ where: { activityId: a.id, status: "EXPIRED" }, data: { redisOwed: true } });
    await sweepAfterPayBy(a.id);
    s = await expectInvariants(a.id, 20);
    expect(Number(s.meta.stock)).toBe(13);

    // The late payers' money arrives after expiry: refused and refunded, the orders stay expired.
    await Promise.all(lateRefs.map((ref) => payOpened(ref)));
    s = await expectInvariants(a.id, 20);
    for (const o of s.orders.filter((x) => late.some((l) => l.id === x.id))) {
      expect(o.status).toBe("EXPIRED");
      expect(o.payments.filter((p) => p.status === "REFUNDED" && p.refundReason === "ORDER_EXPIRED")).toHaveLength(1);
    }
    expect(s.orders.filter((o) => idle.some((i) => i.id === o.id)).every((o) => o.payments.length === 0)).toBe(true);

    // The 13 returned units are offered again exactly once: a new crowd gets exactly 13 orders.
    const second = await buyOne(cores[1]!, a, users.slice(40), `${mode}-b`);
    expect(second).toHaveLength(13);
    s = await expectInvariants(a.id, 20);
    expect(s.activity.stock).toBe(0);
    expect(Number(s.meta.stock)).toBe(0);
  });
});

describe("PAYMENT mode: stock leaves at payment", () => {
  it("admits stock × 1.5 orders, never takes more stock than exists and refunds exactly the late payers", async () => {
    const a = await createActivity({ stock: 20, limit: 1, mode: "PAYMENT" });
    const users = await createUsers(70);
    const orders = await buyOne(cores[0]!, a, users.slice(0, 50), "pay-a");
    expect(orders).toHaveLength(30); // quota = 20 × 1.5
    let s = await expectInvariants(a.id, 20);
    expect(s.activity.stock).toBe(20); // nothing taken before payment

    const [payers, idle, late] = [orders.slice(0, 15), orders.slice(15, 25), orders.slice(25)];
    const lateRefs = await Promise.all(late.map((o) => openCheckout(o)));
    await Promise.all(payers.map((o) => pay(o)));
    s = await expectInvariants(a.id, 20);
    expect(s.activity.stock).toBe(5);

    await sweepAfterPayBy(a.id);
    s = await expectInvariants(a.id, 20);
    expect(s.orders.filter((o) => o.status === "EXPIRED")).toHaveLength(15);
    expect(s.activity.stock).toBe(5); // nothing to return: unpaid orders held no stock
    expect(Number(s.meta.quota)).toBe(15); // but their admissions are offered again
    expect(idle.length).toBe(10);

    await Promise.all(lateRefs.map((ref) => payOpened(ref)));
    s = await expectInvariants(a.id, 20);
    expect(s.activity.stock).toBe(5);

    // A second crowd: 15 admissions for 5 units; 12 pay: 5 get the stock, 7 are refused and refunded.
    const second = await buyOne(cores[1]!, a, users.slice(50), "pay-b");
    expect(second).toHaveLength(15);
    await Promise.all(second.slice(0, 12).map((o) => pay(o)));
    s = await expectInvariants(a.id, 20);
    expect(s.activity.stock).toBe(0);
    const paid = s.orders.filter((o) => o.status === "PAID");
    expect(paid.reduce((n, o) => n + o.quantity, 0)).toBe(20);
    const refused = s.orders.filter((o) => o.closeReason === "SOLD_OUT_AT_PAYMENT");
    expect(refused).toHaveLength(7);
    for (const o of refused) {
      expect(o.status).toBe("CANCELLED");
      expect(o.payments.map((p) => [p.status, p.refundReason])).toEqual([["REFUNDED", "SOLD_OUT_AT_PAYMENT"]]);
    }
    // Refunds went exactly to the late payers and the payers who found no stock.
    const refunded = await db().payment.count({ where: { order: { activityId: a.id }, status: "REFUNDED" } });
    expect(refunded).toBe(5 + 7);
  });
});

describe("expiry and a payment for the same order at the same moment", () => {
  it("exactly one wins, every time; a losing payment is refunded and stock moves once", async () => {
    for (const mode of ["ORDER", "PAYMENT"] as const) {
      const a = await createActivity({ stock: 30, limit: 1, mode });
      const users = await createUsers(30);
      const orders = await buyOne(cores[0]!, a, users, `race-${mode}`);
      expect(orders).toHaveLength(30);
      const after = new Date(orders[0]!.payBy!.getTime() + 1000);
      const outcomes = await Promise.all(
        orders.map(async (o) => {
          const ref = await openCheckout(o, "never");
          await settleCharge(ref, "PAID"); // paid at the provider; its notification is what races the expiry
          const [closed, paid] = await Promise.all([
            expireDue(db(), { now: after, limit: 1, nonPayerThreshold: 100 }).then(() => undefined),
            recordPayment(db(), {
              provider: "sandbox",
              ref,
              orderId: o.id,
              amount: o.amount,
              currency: "CNY",
              paidAt: new Date(),
            }),
          ]);
          return { closed, paid };
        }),
      );
      // Anything a batch skipped (locked by a payment in flight) is expired by the next sweep.
      await sweepOnce(db(), redis(), { now: after, provider: sandbox.provider });
      const s = await expectInvariants(a.id, 30);
      const paid = s.orders.filter((o) => o.status === "PAID");
      const expired = s.orders.filter((o) => o.status === "EXPIRED");
      expect(paid.length + expired.length).toBe(30);
      for (const o of expired)
        expect(o.payments.map((p) => [p.status, p.refundReason])).toEqual([["REFUNDED", "ORDER_EXPIRED"]]);
      expect(outcomes.filter((x) => x.paid.kind === "PAID")).toHaveLength(paid.length);
      expect(s.activity.stock).toBe(mode === "PAYMENT" ? 30 - paid.length : expired.length);
    }
  });
});

describe("the database refuses illegal transitions", () => {
  it("EXPIRED cannot become PENDING_PAYMENT or PAID, PAID cannot expire", async () => {
    const a = await createActivity({ stock: 2, limit: 1 });
    const users = await createUsers(2);
    const [one, two] = await buyOne(cores[0]!, a, users, "illegal");
    await pay(one!);
    await expireDue(db(), { now: new Date(two!.payBy!.getTime() + 1), limit: 100_000, nonPayerThreshold: 100 });
    await expect(db().order.update({ where: { id: two!.id }, data: { status: "PENDING_PAYMENT" } })).rejects.toThrow();
    await expect(
      db().order.update({ where: { id: two!.id }, data: { status: "PAID", paidAt: new Date() } }),
    ).rejects.toThrow();
    await expect(
      db().order.update({
        where: { id: one!.id },
        data: { status: "EXPIRED", closedAt: new Date(), closeReason: "X" },
      }),
    ).rejects.toThrow();
    await expect(
      db().payment.updateMany({ where: { orderId: one!.id }, data: { status: "PENDING" } }),
    ).rejects.toThrow();
    expect((await db().order.findUniqueOrThrow({ where: { id: two!.id } })).status).toBe("EXPIRED");
  });
});
