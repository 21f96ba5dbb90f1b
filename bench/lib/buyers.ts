import { randomUUID } from "node:crypto";
import autocannon, { type Request, type RequestParams, type Result } from "autocannon";
import type { Shopper } from "@/bench/lib/sessions";
import { Counter, Samples, round, type LatencySummary } from "@/bench/lib/stats";

/** An admitted click as the shopper's browser holds it. */
export interface HeldTicket {
  shopper: number;
  ticketId: string;
  sequence: number;
  idempotencyKey: string;
  token: string;
  admittedAt: number;
}

export interface BuyPhase {
  /** Shoppers whose click got an answer (a ticket or a refusal). */
  clicks: number;
  seconds: number;
  /** All HTTP requests of the phase per second (token + order). */
  requestsPerSec: number;
  orders: {
    perSec: number;
    admittedPerSec: number;
    refusedPerSec: number;
    admitted: number;
    refused: Record<string, number>;
    latency: LatencySummary;
  };
  tokens: { perSec: number; latency: LatencySummary };
  /** Answers that are neither a ticket nor an expected refusal, by status and code; plus socket errors and timeouts. */
  errors: { unexpected: Record<string, number>; socket: number; timeouts: number; total: number };
  firstSoldOutAt: number | null;
  tickets: HeldTicket[];
  /** The buy token each shopper was handed (GET /token), by shopper index. */
  handedTokens: Map<number, string>;
}

/** Refusals a correct server gives a valid click; anything else counts as an error. */
// RATE_LIMITED: with the gate on, the refused crowd's repeated clicks meet the per-user limit.
const EXPECTED_REFUSALS = new Set(["SOLD_OUT", "INSUFFICIENT_STOCK", "LIMIT_REACHED", "RATE_LIMITED"]);

const SOLD_OUT = { code: "SOLD_OUT" };
const SOLD_OUT_BODY = JSON.stringify(SOLD_OUT);

interface Ctx {
  shopper?: number;
  token?: string;
  key?: string;
  t0?: number;
  idle?: boolean;
}

/**
 * The buy button's POST (components/flash/buy-panel.tsx) as the bench sends it: the shopper's session
 * cookie (undefined: no cookie header) and the JSON body. The crowd, the paths phase and the reference
 * server's passes all build it here, so their requests are the same bytes. The headers are a new object
 * each time: autocannon adds Content-Length to the one it is given.
 */
export function buyRequest(
  cookie: string | undefined, quantity: number, idempotencyKey: string, token: string | undefined,
): { headers: Record<string, string>; body: string } {
  return {
    headers: cookie === undefined ? { "content-type": "application/json" } : { cookie, "content-type": "application/json" },
    body: JSON.stringify({ quantity, idempotencyKey, token }),
  };
}

/**
 * The storefront button's path for every shopper, once: GET the buy token, then POST the order with
 * a fresh idempotency key (components/flash/buy-panel.tsx), over `connections` keep-alive connections.
 * `postOnly` replays clicks of shoppers who already hold a token (the sold-out crowd hammering "Buy").
 */
export async function runBuyers(o: {
  baseUrl: string;
  activityId: string;
  shoppers: Shopper[];
  /** Shopper indexes to click, in order; each once unless `loopSeconds` is set. */
  order: number[];
  quantity: number;
  connections: number;
  maxSeconds: number;
  postOnly?: { tokens: Map<number, string>; loopSeconds: number };
  onAdmitted?: (t: HeldTicket) => void;
  /**
   * Channels (--channels): the order request's path and headers for a shopper, e.g. a bearer token
   * (app) or a partner's API key on the partner route; default the storefront's cookie and path.
   */
  via?: (shopper: number) => { path: string; headers: Record<string, string> } | null;
}): Promise<BuyPhase & { autocannon: Result }> {
  const tokenPath = `/api/activities/${o.activityId}/token`;
  const orderPath = `/api/activities/${o.activityId}/orders`;
  const tokenLat = new Samples();
  const orderLat = new Samples();
  const refused = new Counter();
  const unexpected = new Counter();
  const tickets: HeldTicket[] = [];
  const handedTokens = new Map<number, string>();
  let next = 0;
  let clicks = 0;
  let firstSend = 0;
  let lastAnswer = 0;
  let firstSoldOutAt: number | null = null;
  const loop = Boolean(o.postOnly);
  const pick = (): number | undefined => {
    if (next < o.order.length) return o.order[next++];
    if (loop) return o.order[next++ % o.order.length];
    return undefined;
  };
  const stamp = (ctx: Ctx) => {
    ctx.t0 = performance.now();
    if (!firstSend) firstSend = ctx.t0;
  };

  const order: Request<Ctx> = {
    method: "POST",
    path: orderPath,
    setupRequest: (req: RequestParams, ctx: Ctx) => {
      if (loop) {
        const s = pick();
        if (s === undefined) return null;
        ctx.shopper = s;
        ctx.token = o.postOnly!.tokens.get(s);
      }
      if (ctx.shopper === undefined || !ctx.token) return null;
      ctx.key = randomUUID();
      stamp(ctx);
      const via = o.via?.(ctx.shopper);
      const buy = buyRequest(via ? undefined : o.shoppers[ctx.shopper]!.cookie, o.quantity, ctx.key, ctx.token);
      // `req` is autocannon's fresh copy for this request: set on it rather than copied (generator time).
      if (via) {
        req.path = via.path;
        Object.assign(buy.headers, via.headers);
      }
      req.headers = buy.headers;
      req.body = buy.body;
      return req;
    },
    onResponse: (status: number, body: string, ctx: Ctx) => {
      const now = performance.now();
      lastAnswer = now;
      if (ctx.t0 !== undefined) orderLat.add(now - ctx.t0);
      clicks++;
      // The sold-out crowd's answer is the same bytes every time: known without parsing (generator time).
      const parsed = (body === SOLD_OUT_BODY ? SOLD_OUT : safeJson(body)) as
        | { ticketId?: string; sequence?: number; code?: string }
        | undefined;
      if (status === 202 && parsed?.ticketId) {
        const t: HeldTicket = {
          shopper: ctx.shopper!,
          ticketId: parsed.ticketId,
          sequence: Number(parsed.sequence),
          idempotencyKey: ctx.key!,
          token: ctx.token!,
          admittedAt: Date.now(),
        };
        tickets.push(t);
        o.onAdmitted?.(t);
      } else if (parsed?.code && EXPECTED_REFUSALS.has(parsed.code) && status < 500) {
        refused.add(parsed.code);
        if (parsed.code === "SOLD_OUT" && firstSoldOutAt === null) firstSoldOutAt = Date.now();
      } else {
        unexpected.add(`${status} ${parsed?.code ?? body.slice(0, 40)}`);
      }
      ctx.t0 = undefined;
    },
  };
  const token: Request<Ctx> = {
    method: "GET",
    path: tokenPath,
    setupRequest: (req: RequestParams, ctx: Ctx): RequestParams => {
      const s = pick();
      if (s === undefined) {
        // Every shopper has clicked: the connection idles on a cheap request until autocannon stops it.
        ctx.idle = true;
        return { ...req, path: "/api/time" };
      }
      ctx.shopper = s;
      stamp(ctx);
      return { ...req, headers: { cookie: o.shoppers[s]!.cookie } };
    },
    onResponse: (status: number, body: string, ctx: Ctx) => {
      if (ctx.idle) return;
      const now = performance.now();
      lastAnswer = now;
      if (ctx.t0 !== undefined) tokenLat.add(now - ctx.t0);
      const parsed = safeJson(body) as { token?: string; code?: string } | undefined;
      if (status === 200 && parsed?.token) {
        ctx.token = parsed.token;
        handedTokens.set(ctx.shopper!, parsed.token);
      } else {
        ctx.token = undefined;
        clicks++; // the browser shows the refusal; there is no order request
        // A rate-limited token (the bot account among the crowd, --bots) is an answer the gate means to give.
        if (parsed?.code === "RATE_LIMITED" && status === 429) refused.add(parsed.code);
        else unexpected.add(`token ${status} ${parsed?.code ?? body.slice(0, 40)}`);
      }
      ctx.t0 = undefined;
    },
  };

  const perConnection = loop ? 0 : 2 * Math.ceil(o.order.length / o.connections);
  const result = await new Promise<Result>((resolve, reject) => {
    const inst = autocannon<Ctx>(
      {
        url: o.baseUrl,
        connections: Math.min(o.connections, Math.max(1, o.order.length)),
        duration: loop ? o.postOnly!.loopSeconds : o.maxSeconds,
        ...(perConnection ? { maxConnectionRequests: perConnection } : {}),
        timeout: 10,
        sampleInt: 100,
        requests: loop ? [order] : [token, order],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    void inst;
  });

  const seconds = firstSend && lastAnswer > firstSend ? (lastAnswer - firstSend) / 1000 : result.duration;
  const admitted = tickets.length;
  const refusedTotal = refused.total();
  const orderCount = orderLat.count;
  return {
    clicks,
    seconds: round(seconds, 3),
    requestsPerSec: round((orderCount + tokenLat.count) / seconds, 0),
    orders: {
      perSec: round(orderCount / seconds, 0),
      admittedPerSec: round(admitted / seconds, 0),
      refusedPerSec: round(refusedTotal / seconds, 0),
      admitted,
      refused: refused.counts as Record<string, number>,
      latency: orderLat.summary(),
    },
    tokens: { perSec: round(tokenLat.count / seconds, 0), latency: tokenLat.summary() },
    errors: {
      unexpected: unexpected.counts as Record<string, number>,
      socket: result.errors,
      timeouts: result.timeouts,
      total: unexpected.total() + result.errors + result.timeouts,
    },
    firstSoldOutAt,
    tickets,
    handedTokens,
    autocannon: result,
  };
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
