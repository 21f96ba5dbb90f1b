import { afterAll, beforeAll, expect } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { activityKeys } from "@/lib/flash/store";
import type { FlashCore } from "@/lib/flash/core";
import { setPaymentProvider } from "@/lib/payments";
import { startCheckout } from "@/lib/payments/checkout";
import { handleNotification, settlePayments } from "@/lib/payments/notifications";
import { settleCharge, setSandboxTransport, settleDeliveries } from "@/lib/payments/sandbox/ledger";
import { sandboxProvider } from "@/lib/payments/sandbox/provider";
import type { SandboxDelivery } from "@/lib/payments/types";
import { createCores, drain, tokenFor, type TestActivity } from "./flash";

/**
 * For a test file: the sandbox provider delivering in-process (installed before its tests, removed
 * after), and `cores` flash cores. Read `provider` inside tests.
 */
export function lifecycleTestSetup(cores = 1) {
  const flash = createCores(cores);
  const state = {
    provider: undefined as unknown as ReturnType<typeof inProcessSandbox>["provider"],
    cores: flash.cores,
  };
  let sandbox: ReturnType<typeof inProcessSandbox> | undefined;
  beforeAll(() => {
    sandbox = inProcessSandbox();
    state.provider = sandbox.provider;
  });
  afterAll(() => {
    sandbox?.restore();
    flash.close();
  });
  return state;
}

/** The sandbox provider, delivering its notifications in-process to the shop's handler. */
export function inProcessSandbox() {
  const provider = sandboxProvider("http://shop.test");
  setPaymentProvider(provider);
  setSandboxTransport(async (_url, body, headers) => {
    const reply = await handleNotification(provider, body, new Headers(headers));
    return { status: reply.status, body: reply.body };
  });
  return {
    provider,
    restore() {
      setPaymentProvider();
      setSandboxTransport();
    },
  };
}

/** Each user buys one unit; returns the orders that were written, oldest first. */
export async function buyOne(core: FlashCore, a: TestActivity, users: string[], tag: string) {
  const results = await Promise.all(
    users.map((u, i) =>
      core.admit(a.id, u, { quantity: 1, idempotencyKey: `${tag}-${i}`.padEnd(8, "0"), token: tokenFor(a, u) }),
    ),
  );
  await drain(a.id, 2);
  const tickets = results.flatMap((r) => (r.ok ? [r.ticketId] : []));
  return db().order.findMany({ where: { ticketId: { in: tickets } }, orderBy: { sequence: "asc" } });
}

/** The shopper pays through the whole sandbox path: checkout, pay page, asynchronous signed notification. */
export async function pay(order: { id: string; userId: string }, delivery?: SandboxDelivery) {
  const r = await startCheckout(order.userId, order.id, delivery ? { delivery } : {});
  if (!r.ok) throw new Error(`checkout refused: ${r.code}`);
  const ref = new URL(r.url).pathname.split("/").pop()!;
  await settleCharge(ref, "PAID");
  await settleDeliveries();
  await settlePayments();
  return ref;
}

/** Pays an order whose checkout can no longer be opened (expired): the shopper had the pay page open before. */
export async function openCheckout(order: { id: string; userId: string }, delivery?: SandboxDelivery) {
  const r = await startCheckout(order.userId, order.id, delivery ? { delivery } : {});
  if (!r.ok) throw new Error(`checkout refused: ${r.code}`);
  return new URL(r.url).pathname.split("/").pop()!;
}

export async function payOpened(ref: string) {
  await settleCharge(ref, "PAID");
  await settleDeliveries();
  await settlePayments();
}

/**
 * I1–I4 and I6 over PostgreSQL and Redis, once the queue is drained and the sweeper's Redis mirror ran:
 * no counter negative, units held by orders + stock left = the sellable units, in both stores; every
 * kept payment pays exactly one PAID order, and every other payment is owed back or returned.
 */
export async function expectInvariants(activityId: string, sellable: number) {
  const a = await db().activity.findUniqueOrThrow({ where: { id: activityId } });
  const orders = await db().order.findMany({ where: { activityId }, include: { payments: true } });
  const meta = await redis().hgetall(activityKeys(activityId).meta);
  const holding = a.deductionMode === "PAYMENT" ? ["PAID"] : ["PENDING_PAYMENT", "PAID"];
  const held = orders.filter((o) => holding.includes(o.status)).reduce((n, o) => n + o.quantity, 0);
  expect(a.stock).toBeGreaterThanOrEqual(0);
  expect(Number(meta.stock)).toBeGreaterThanOrEqual(0);
  expect(held + a.stock).toBe(sellable); // I1 + I4 in PostgreSQL
  expect(Number(meta.stock)).toBe(a.stock); // Redis agrees once mirrored
  const users = new Map<string, number>();
  for (const o of orders.filter((x) => holding.includes(x.status)))
    users.set(o.userId, (users.get(o.userId) ?? 0) + o.quantity);
  expect(Math.max(0, ...users.values())).toBeLessThanOrEqual(a.perUserLimit); // I3
  for (const o of orders) {
    const kept = o.payments.filter((p) => p.status === "SUCCEEDED" && !p.refundReason);
    expect(kept.length).toBe(o.status === "PAID" ? 1 : 0); // I6
    for (const p of o.payments.filter((x) => x.status === "REFUNDED")) expect(p.refundReason).toBeTruthy();
  }
  return { activity: a, orders, meta };
}
