import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";

/**
 * A local HTTP server speaking the part of Stripe's API the shop calls (Checkout Sessions create,
 * retrieve and list; Refunds create with idempotency keys), so the stripe provider runs offline
 * through the official SDK unchanged. `pay()` plays the shopper paying on Stripe's page and returns
 * the `checkout.session.completed` event Stripe would send.
 */
export interface FakeSession {
  id: string;
  object: "checkout.session";
  url: string;
  amount_total: number;
  currency: string;
  client_reference_id: string | null;
  metadata: Record<string, string>;
  payment_status: "unpaid" | "paid";
  status: "open" | "complete" | "expired";
  payment_intent: string | null;
  created: number;
}

export async function startFakeStripe() {
  const sessions = new Map<string, FakeSession>();
  const refunds = new Map<
    string,
    { id: string; object: "refund"; amount: number; payment_intent: string; status: "succeeded" }
  >();
  const id = (prefix: string) => `${prefix}_test_${randomBytes(12).toString("hex")}`;

  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://stripe.local");
      const form = new URLSearchParams(body);
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { "content-type": "application/json", "request-id": id("req") });
        res.end(JSON.stringify(json));
      };
      const notFound = () =>
        send(404, { error: { type: "invalid_request_error", message: "No such resource", code: "resource_missing" } });
      if (!req.headers.authorization?.startsWith("Bearer sk_test_"))
        return send(401, { error: { type: "invalid_request_error", message: "bad key" } });

      if (req.method === "POST" && url.pathname === "/v1/checkout/sessions") {
        const s: FakeSession = {
          id: id("cs"),
          object: "checkout.session",
          url: "",
          amount_total:
            Number(form.get("line_items[0][price_data][unit_amount]")) *
            Number(form.get("line_items[0][quantity]") ?? 1),
          currency: form.get("line_items[0][price_data][currency]") ?? "",
          client_reference_id: form.get("client_reference_id"),
          metadata: { orderId: form.get("metadata[orderId]") ?? "" },
          payment_status: "unpaid",
          status: "open",
          payment_intent: null,
          created: Math.floor(Date.now() / 1000),
        };
        s.url = `https://checkout.stripe.test/c/pay/${s.id}`;
        sessions.set(s.id, s);
        return send(200, s);
      }
      const one = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(url.pathname);
      if (req.method === "GET" && one) {
        const s = sessions.get(one[1]!);
        return s ? send(200, s) : notFound();
      }
      if (req.method === "GET" && url.pathname === "/v1/checkout/sessions") {
        const gte = Number(url.searchParams.get("created[gte]") ?? 0);
        const data = [...sessions.values()].filter((s) => s.created >= gte);
        return send(200, { object: "list", url: "/v1/checkout/sessions", has_more: false, data });
      }
      if (req.method === "POST" && url.pathname === "/v1/refunds") {
        const key = String(req.headers["idempotency-key"] ?? id("key"));
        const existing = refunds.get(key);
        if (existing) return send(200, existing);
        const intent = form.get("payment_intent") ?? "";
        const paid = [...sessions.values()].find((s) => s.payment_intent === intent);
        if (!paid) return notFound();
        const r = {
          id: id("re"),
          object: "refund" as const,
          amount: Number(form.get("amount")),
          payment_intent: intent,
          status: "succeeded" as const,
        };
        refunds.set(key, r);
        return send(200, r);
      }
      notFound();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;

  return {
    apiBase: `http://127.0.0.1:${port}`,
    sessions,
    refunds,
    /** The shopper pays on Stripe's page: the session completes; returns the webhook payload Stripe would send. */
    pay(sessionId: string): string {
      const s = sessions.get(sessionId);
      if (!s) throw new Error(`no session ${sessionId}`);
      s.payment_status = "paid";
      s.status = "complete";
      s.payment_intent ??= id("pi");
      return JSON.stringify({
        id: id("evt"),
        object: "event",
        api_version: "2026-10-28.endive",
        created: Math.floor(Date.now() / 1000),
        type: "checkout.session.completed",
        data: { object: s },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
      });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
