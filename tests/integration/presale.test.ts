import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { runControl } from "@/lib/admin/controls";
import { checkInvariants } from "@/lib/flash/invariants";
import { activityKeys } from "@/lib/flash/store";
import { createDeposit, presaleView } from "@/lib/orders/presale";
import { expireDue } from "@/lib/orders/lifecycle";
import { sweepOnce } from "@/lib/orders/sweeper";
import { startCheckout } from "@/lib/payments/checkout";
import { createActivity, createUsers, drain, snapshot, tokenFor } from "../support/flash";
import { buyOne, lifecycleTestSetup, openCheckout, pay, payOpened } from "../support/lifecycle";
import { createAdmin } from "../support/admin-fixtures";
import { PRESALE_CLOSE_LEAD_MS } from "@/lib/admin/schemas";
import { PREHEAT_LEAD_MS, preheatActivity } from "@/lib/flash/preheat";

// Pre-sale (docs/presale.md): deposits reserve units before the flash sale, balances are paid after it
// opens, unpaid balances release their unit exactly once. The clock is never raced: the sale starts
// through the start-early control and expiry is swept at an explicit `now`.

const sandbox = lifecycleTestSetup(2);
const cores = sandbox.cores;

const DEPOSIT = 100; // sale price 990 (tests/support/flash.ts): balance 890

async function presaleSale(opts: { stock: number; units: number; limit?: number }) {
  // Starts in 5 minutes: deposits pay by the window's end (start − 1 min), balances by start + 2 min,
  // both before the 10-minute payment window of the flash sale's own orders, so a sweep at a balance's
  // deadline closes nothing else of this sale.
  const a = await createActivity({ stock: opts.stock, limit: opts.limit ?? 1, startInMs: 300_000, preheat: false });
  await db().activity.update({
    where: { id: a.id },
    data: {
      presaleDeposit: DEPOSIT,
      presaleStartsAt: new Date(Date.now() - 60_000),
      presaleEndsAt: new Date(a.startMs - 60_000),
      presaleUnits: opts.units,
      balanceWindowSec: 120,
    },
  });
  return a;
}

/** I6 for pre-sale: a PAID pre-sale order keeps its deposit and its balance; an expired one keeps (forfeits) a paid deposit only; nothing else kept. */
async function expectMoney(activityId: string) {
  const orders = await db().order.findMany({ where: { activityId }, include: { payments: true } });
  for (const o of orders) {
    const kept = o.payments.filter((p) => p.status === "SUCCEEDED" && !p.refundReason).map((p) => p.kind).sort();
    if (o.deposit === null) expect(kept).toEqual(o.status === "PAID" ? ["FULL"] : []);
    else if (o.status === "PAID") expect(kept).toEqual(["BALANCE", "DEPOSIT"]);
    else if (o.status === "PENDING_PAYMENT" || o.status === "EXPIRED") expect(kept).toEqual(o.depositPaidAt ? ["DEPOSIT"] : []);
    else expect(kept).toEqual([]);
    for (const p of o.payments.filter((x) => x.status === "REFUNDED")) expect(p.refundReason).toBeTruthy();
  }
  return orders;
}

async function expectI1toI4(activityId: string, offered: number) {
  await drain(activityId, 2);
  const checks = checkInvariants(await snapshot(activityId), { offered });
  expect(checks.filter((c) => !c.ok)).toEqual([]);
}

describe("pre-sale", () => {
  it("the admin form closes deposits no later than the preheat, which ends them", () => {
    expect(PRESALE_CLOSE_LEAD_MS).toBe(PREHEAT_LEAD_MS);
  });

  it("deposits reserve units, balances pay them, an unpaid balance returns its unit exactly once; I1–I4 and I6 hold", async () => {
    const admin = await createAdmin();
    const a = await presaleSale({ stock: 10, units: 4 });
    const users = await createUsers(30);
    const depositors = users.slice(0, 6);

    // Six shoppers ask at once for the four pre-sale units: exactly four orders.
    const asked = await Promise.all(depositors.map((u) => createDeposit(db(), a.id, u)));
    const got = asked.flatMap((r, i) => (r.ok ? [{ ...r.order, userId: depositors[i]! }] : []));
    expect(got).toHaveLength(4);
    expect(asked.filter((r) => !r.ok).map((r) => !r.ok && r.code)).toEqual(["PRESALE_SOLD_OUT", "PRESALE_SOLD_OUT"]);
    // Asking again answers the same order and takes nothing.
    const again = await createDeposit(db(), a.id, got[0]!.userId);
    expect(again).toMatchObject({ ok: true, created: false, order: { orderId: got[0]!.orderId } });
    expect((await db().activity.findUniqueOrThrow({ where: { id: a.id } })).stock).toBe(6);
    const view = await presaleView(db(), a.id, got[0]!.userId);
    expect(view).toMatchObject({ ok: true, view: { unitsLeft: 0, deposit: DEPOSIT, order: { depositPaid: false, balance: 890 } } });

    // Three pay their deposit; one notification is delivered twice (the replay changes nothing).
    const orders = got.map((g) => ({ id: g.orderId, userId: g.userId }));
    await pay(orders[0]!, "twice");
    await pay(orders[1]!);
    await pay(orders[2]!);
    const afterDeposit = await expectMoney(a.id);
    expect(afterDeposit.filter((o) => o.depositPaidAt)).toHaveLength(3);
    expect(afterDeposit.every((o) => o.status === "PENDING_PAYMENT")).toBe(true);
    // The balance cannot be paid before the flash sale opens.
    expect(await startCheckout(orders[0]!.userId, orders[0]!.id)).toEqual({ ok: false, code: "NOT_PAYABLE" });

    // The fourth never pays its deposit: it expires (before the preheat) and its unit goes back.
    const unpaid = afterDeposit.find((o) => o.id === orders[3]!.id)!;
    const closed = await expireDue(db(), { now: new Date(unpaid.payBy!.getTime() + 1000), limit: 100, nonPayerThreshold: 1000 });
    expect(closed.map((c) => c.id)).toContain(unpaid.id);
    expect((await db().activity.findUniqueOrThrow({ where: { id: a.id } })).stock).toBe(7);

    // The flash sale opens early (start control, which preheats): no deposit any more, Redis sells 7.
    expect(await runControl({ activityId: a.id, action: "start" }, admin.id)).toMatchObject({ ok: true });
    expect(await createDeposit(db(), a.id, users[20]!)).toEqual({ ok: false, code: "PRESALE_CLOSED" });
    expect(Number(await redis().hget(activityKeys(a.id).meta, "stock"))).toBe(7);
    await expectI1toI4(a.id, 10);

    // Two depositors pay the balance (one notification twice): their orders are PAID.
    await pay(orders[0]!, "twice");
    await pay(orders[1]!);
    // A depositor's unit counts against the limit in the flash sale too.
    const started = (await db().activity.findUniqueOrThrow({ where: { id: a.id } })).startAt.getTime();
    const live = { ...a, startMs: started };
    const refused = await cores[0]!.admit(a.id, orders[2]!.userId, {
      quantity: 1,
      idempotencyKey: "presale-limit-1",
      token: tokenFor(live, orders[2]!.userId),
    });
    expect(refused).toMatchObject({ ok: false, code: "LIMIT_REACHED" });

    // The crowd buys the 7 units left, no more.
    const crowd = await buyOne(cores[0]!, live, users.slice(6, 18), "presale-crowd");
    expect(crowd).toHaveLength(7);
    await expectI1toI4(a.id, 10);
    await expectMoney(a.id);

    // The third depositor opened the balance checkout but pays only as the window closes, racing
    // four sweepers: either the payment or the expiry wins, the unit moves once.
    const lateRef = await openCheckout(orders[2]!);
    const due = (await db().order.findUniqueOrThrow({ where: { id: orders[2]!.id } })).payBy!;
    const sweep = () => sweepOnce(db(), redis(), { now: new Date(due.getTime() + 1000), provider: sandbox.provider });
    await Promise.all([sweep(), sweep(), payOpened(lateRef), sweep(), sweep()]);
    await Promise.all([sweep(), sweep()]);
    const third = await db().order.findUniqueOrThrow({ where: { id: orders[2]!.id }, include: { payments: true } });
    const pgStock = (await db().activity.findUniqueOrThrow({ where: { id: a.id } })).stock;
    if (third.status === "EXPIRED") {
      expect(pgStock).toBe(1);
      // The balance that arrived too late goes back; the deposit is forfeited (kept).
      expect(third.payments.filter((p) => p.kind === "BALANCE").every((p) => p.refundReason === "ORDER_EXPIRED")).toBe(true);
    } else {
      expect(third.status).toBe("PAID");
      expect(pgStock).toBe(0);
    }
    expect(Number(await redis().hget(activityKeys(a.id).meta, "stock"))).toBe(pgStock);
    // A mirror replayed (the flag set again, as after a crash between commit and mirror) adds nothing.
    await db().order.updateMany({ where: { activityId: a.id, status: "EXPIRED" }, data: { redisOwed: true } });
    await Promise.all([sweep(), sweep()]);
    expect(Number(await redis().hget(activityKeys(a.id).meta, "stock"))).toBe(pgStock);
    await expectI1toI4(a.id, 10);
    await expectMoney(a.id);

    // A returned unit is sold once more through the flash sale's ordinary admission.
    const second = await buyOne(cores[1]!, live, users.slice(18, 26), "presale-again");
    expect(second).toHaveLength(pgStock);
    await expectI1toI4(a.id, 10);
  });

  it("a cancelled sale refunds paid deposits through the refund path; bad phases are refused", async () => {
    const admin = await createAdmin();
    const a = await presaleSale({ stock: 5, units: 3, limit: 2 });
    const users = await createUsers(3);
    const made = await Promise.all(users.map((u) => createDeposit(db(), a.id, u)));
    const orders = made.map((r, i) => {
      if (!r.ok) throw new Error(r.code);
      return { id: r.order.orderId, userId: users[i]! };
    });
    await pay(orders[0]!);
    await pay(orders[1]!);
    // A sale with no pre-sale, a window not open yet, a window over.
    const plain = await createActivity({ stock: 1, startInMs: 3600_000, preheat: false });
    expect(await createDeposit(db(), plain.id, users[0]!)).toEqual({ ok: false, code: "NO_PRESALE" });
    expect(await createDeposit(db(), a.id, users[0]!, new Date(Date.now() - 3600_000))).toMatchObject({ ok: true, created: false });
    const fresh = (await createUsers(1))[0]!;
    expect(await createDeposit(db(), a.id, fresh, new Date(Date.now() - 3600_000))).toEqual({ ok: false, code: "PRESALE_NOT_OPEN" });
    expect(await createDeposit(db(), a.id, fresh, new Date(a.startMs))).toEqual({ ok: false, code: "PRESALE_CLOSED" });

    // Once the sale is preheated its stock lives in Redis: no deposit, even inside the window.
    await preheatActivity(db(), redis(), a.id);
    expect(await createDeposit(db(), a.id, fresh)).toEqual({ ok: false, code: "PRESALE_CLOSED" });

    expect(await runControl({ activityId: a.id, action: "cancel" }, admin.id)).toMatchObject({ ok: true });
    await sweepOnce(db(), redis(), { provider: sandbox.provider });
    const after = await db().order.findMany({ where: { activityId: a.id }, include: { payments: true } });
    expect(after.every((o) => o.status === "CANCELLED")).toBe(true);
    const deposits = after.flatMap((o) => o.payments);
    expect(deposits).toHaveLength(2);
    expect(deposits.every((p) => p.kind === "DEPOSIT" && p.status === "REFUNDED" && p.refundReason === "SALE_CANCELLED")).toBe(true);
    expect((await db().activity.findUniqueOrThrow({ where: { id: a.id } })).stock).toBe(5);
    await expectMoney(a.id);
  });
});
