import { randomBytes } from "node:crypto";
import autocannon, { type Request, type RequestParams, type Result } from "autocannon";
import { db } from "@/lib/db";
import { SIGNATURE_HEADER, sandboxSecretFrom, signPayload } from "@/lib/payments/sandbox/signature";
import type { Check } from "@/bench/lib/invariants";

export interface PaymentPhase {
  orders: number;
  notifications: number;
  duplicates: number;
  seconds: number;
  perSec: number;
  /** Replies other than 200 "success", by status. */
  refused: Record<string, number>;
  checks: Check[];
}

/**
 * The payment phase: a signed sandbox notification for every confirmed order of a sale, a share of them
 * sent twice (as a provider retrying would), posted to the shop's notification endpoint over
 * `connections` keep-alive connections. Then I6 (one payment per order, no double payment) and I1/I4
 * (paying moves no stock in ORDER mode) are read back from PostgreSQL.
 */
export async function runPaymentPhase(o: {
  baseUrl: string;
  activity: { id: string; stock: number };
  env: { NEXTAUTH_SECRET: string; SANDBOX_WEBHOOK_SECRET?: string };
  connections: number;
  duplicateShare: number;
  log: (line: string) => void;
}): Promise<PaymentPhase> {
  const secret = sandboxSecretFrom(o.env);
  const orders = await db().order.findMany({
    where: { activityId: o.activity.id, status: "PENDING_PAYMENT" },
    select: { id: true, amount: true, activity: { select: { product: { select: { currency: true } } } } },
  });
  const bodies = orders.map((order) =>
    JSON.stringify({
      id: `evt_${randomBytes(12).toString("base64url")}`,
      type: "charge.paid",
      session: `sbx_cs_bench_${order.id}`,
      reference: order.id,
      amount: order.amount,
      currency: order.activity.product.currency,
      paid_at: new Date().toISOString(),
    }),
  );
  const duplicates = Math.floor(bodies.length * o.duplicateShare);
  // Duplicates interleaved with the originals, so some arrive while their first copy is in flight.
  const queue = [...bodies];
  for (let i = 0; i < duplicates; i++) queue.splice(Math.min(queue.length, i * 2 + 1), 0, bodies[i]!);
  o.log(`payment: ${bodies.length} signed notifications + ${duplicates} duplicates over ${o.connections} connections`);

  const refused: Record<string, number> = {};
  let next = 0;
  let firstSend = 0;
  let lastAnswer = 0;
  // autocannon, like the buy phases: the generator must cost less than the server it measures.
  const notify: Request<object> = {
    method: "POST",
    path: "/api/payments/sandbox/notify",
    setupRequest: (req: RequestParams) => {
      const body = queue[next++];
      if (body === undefined) return req; // the last connections idle until autocannon stops them
      firstSend ||= performance.now();
      return {
        ...req,
        body,
        headers: {
          "content-type": "application/json",
          [SIGNATURE_HEADER]: signPayload(secret, body, Math.floor(Date.now() / 1000)),
        },
      };
    },
    onResponse: (status: number, text: string) => {
      lastAnswer = performance.now();
      if (status !== 200 || text !== "success") refused[status] = (refused[status] ?? 0) + 1;
    },
  };
  await new Promise<Result>((resolve, reject) => {
    autocannon<object>(
      {
        url: o.baseUrl,
        connections: Math.min(o.connections, queue.length),
        amount: queue.length,
        timeout: 30,
        requests: [notify],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
  const started = firstSend;
  const seconds = (lastAnswer - started) / 1000;

  const after = await db().order.findMany({
    where: { id: { in: orders.map((x) => x.id) } },
    select: { status: true, quantity: true, payments: { select: { status: true, refundReason: true } } },
  });
  const activity = await db().activity.findUniqueOrThrow({ where: { id: o.activity.id } });
  const held = await db().order.aggregate({
    where: { activityId: o.activity.id, status: { in: ["PENDING_PAYMENT", "PAID"] } },
    _sum: { quantity: true },
  });
  const kept = after.map((x) => x.payments.filter((p) => p.status === "SUCCEEDED" && !p.refundReason).length);
  const payments = after.reduce((n, x) => n + x.payments.length, 0);
  const checks: Check[] = [
    {
      invariant: "RUN",
      name: "every notification accepted",
      ok: Object.keys(refused).length === 0 && queue.length > 0,
      detail: `${queue.length} sent, refused ${JSON.stringify(refused)}`,
    },
    {
      invariant: "I6",
      name: "every order paid exactly once",
      ok: after.every((x, i) => x.status === "PAID" && kept[i] === 1),
      detail: `${after.filter((x) => x.status === "PAID").length}/${after.length} paid`,
    },
    {
      invariant: "I6",
      name: "duplicates made no payment",
      ok: payments === orders.length,
      detail: `${payments} payments for ${orders.length} orders (${duplicates} duplicates sent)`,
    },
    {
      invariant: "I4",
      name: "paying moved no stock (ORDER mode)",
      ok: activity.stock + (held._sum.quantity ?? 0) === o.activity.stock,
      detail: `stock ${activity.stock} + held ${held._sum.quantity ?? 0} = ${o.activity.stock}`,
    },
  ];
  const perSec = Math.round(queue.length / seconds);
  o.log(
    `payment: ${queue.length} notifications in ${seconds.toFixed(2)} s = ${perSec}/s; ${checks.filter((c) => !c.ok).length} violations`,
  );
  return {
    orders: orders.length,
    notifications: queue.length,
    duplicates,
    seconds: Number(seconds.toFixed(3)),
    perSec,
    refused,
    checks,
  };
}
