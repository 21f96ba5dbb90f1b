import { randomUUID } from "node:crypto";
import type { Shopper } from "@/bench/lib/sessions";
import { Counter } from "@/bench/lib/stats";

/*
 * The fault suite's crowd. bench/lib/buyers.ts drives autocannon, which sends each request once with a
 * fresh key; across a fault a browser does more: it keeps its idempotency key and retries after a
 * network error, a 5xx or a pause, and fetches a new buy token when the old one is refused. So this
 * crowd is a small fetch loop that does exactly that, with a bounded number of shoppers in flight.
 */

export interface Ticket {
  shopper: number;
  ticketId: string;
  key: string;
  token: string;
}

export interface CrowdResult {
  shoppers: number;
  tickets: Ticket[];
  /** Final answers other than a ticket, by code. */
  refused: Record<string, number>;
  /** Answers that made a shopper try again (network error, 5xx, 404, PAUSED…), by status/code. */
  retried: Record<string, number>;
  /** 404 NOT_FOUND answered for the sale while it was live (a buyer must never see one). */
  notFound: number;
  /** Shoppers still without a final answer at the crowd's deadline. */
  gaveUp: number;
  seconds: number;
}

/** Final refusals: the shopper stops clicking. */
const FINAL = new Set(["SOLD_OUT", "INSUFFICIENT_STOCK", "LIMIT_REACHED", "ENDED"]);
const RETRY_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(url: string, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { code: text.slice(0, 30) };
    }
    return { status: res.status, body };
  } catch (e) {
    return { status: 0, body: { code: (e as Error).name === "TimeoutError" ? "timeout" : "network" } };
  }
}

/**
 * Every shopper clicks Buy once (one idempotency key each), released at `ratePerSec`, at most
 * `inFlight` at a time, retrying until a final answer or `deadlineMs`. `onTicket` sees each 202.
 */
export async function runCrowd(o: {
  baseUrl: string;
  activityId: string;
  shoppers: Shopper[];
  ratePerSec: number;
  inFlight: number;
  deadlineMs: number;
  /** Whether the sale was ended or cancelled on purpose: a 404 then is not a live sale's 404. */
  over?: () => boolean;
  onProgress?: (clicked: number) => void;
}): Promise<CrowdResult> {
  const t0 = Date.now();
  const end = t0 + o.deadlineMs;
  const tickets: Ticket[] = [];
  const refused = new Counter();
  const retried = new Counter();
  let notFound = 0;
  let gaveUp = 0;
  let next = 0;
  let started = 0;

  const tokenOf = async (s: Shopper): Promise<string | { code: string }> => {
    while (Date.now() < end) {
      const r = await call(`${o.baseUrl}/api/activities/${o.activityId}/token`, { headers: { cookie: s.cookie } });
      if (r.status === 200 && typeof r.body.token === "string") return r.body.token;
      const code = String(r.body.code ?? r.status);
      if (FINAL.has(code)) return { code };
      if (code === "NOT_FOUND" && !o.over?.()) notFound++;
      if (code === "NOT_FOUND" && o.over?.()) return { code: "ENDED" };
      retried.add(`token ${r.status} ${code}`);
      await sleep(RETRY_MS);
    }
    return { code: "gave up" };
  };

  const click = async (i: number) => {
    const s = o.shoppers[i]!;
    const key = randomUUID();
    let token = await tokenOf(s);
    while (Date.now() < end) {
      if (typeof token !== "string") {
        if (token.code === "gave up") gaveUp++;
        else refused.add(token.code);
        return;
      }
      const r = await call(`${o.baseUrl}/api/activities/${o.activityId}/orders`, {
        method: "POST",
        headers: { cookie: s.cookie, "content-type": "application/json" },
        body: JSON.stringify({ quantity: 1, idempotencyKey: key, token }),
      });
      if (r.status === 202 && typeof r.body.ticketId === "string") {
        tickets.push({ shopper: i, ticketId: r.body.ticketId, key, token });
        return;
      }
      const code = String(r.body.code ?? r.status);
      if (FINAL.has(code)) return void refused.add(code);
      if (code === "NOT_FOUND" && o.over?.()) return void refused.add("ENDED");
      if (code === "NOT_FOUND") notFound++;
      retried.add(`order ${r.status} ${code}`);
      await sleep(RETRY_MS);
      if (code === "BAD_TOKEN" || code === "NOT_FOUND") token = await tokenOf(s);
    }
    gaveUp++;
  };

  const lanes = Array.from({ length: o.inFlight }, async () => {
    for (;;) {
      const i = next++;
      if (i >= o.shoppers.length) return;
      // Released at the given rate: the crowd spans the fault instead of passing before it.
      const due = t0 + (i * 1000) / o.ratePerSec;
      if (due > Date.now()) await sleep(due - Date.now());
      started++;
      o.onProgress?.(started);
      await click(i);
    }
  });
  await Promise.all(lanes);
  return {
    shoppers: o.shoppers.length,
    tickets,
    refused: refused.counts as Record<string, number>,
    retried: retried.counts as Record<string, number>,
    notFound,
    gaveUp,
    seconds: (Date.now() - t0) / 1000,
  };
}

/** Each ticket's click sent again with its key: the answer must be the same ticket (never a second purchase). */
export async function replayClicks(baseUrl: string, activityId: string, shoppers: Shopper[], tickets: Ticket[]) {
  const out = { tried: 0, sameTicket: 0, otherTicket: 0, refused: new Counter() };
  for (let i = 0; i < tickets.length; i += 16) {
    await Promise.all(
      tickets.slice(i, i + 16).map(async (t) => {
        out.tried++;
        for (let attempt = 0; attempt < 20; attempt++) {
          const r = await call(`${baseUrl}/api/activities/${activityId}/orders`, {
            method: "POST",
            headers: { cookie: shoppers[t.shopper]!.cookie, "content-type": "application/json" },
            body: JSON.stringify({ quantity: 1, idempotencyKey: t.key, token: t.token }),
          });
          if (r.status === 202) return void (r.body.ticketId === t.ticketId ? out.sameTicket++ : out.otherTicket++);
          if (r.status !== 0 && r.status < 500) return void out.refused.add(String(r.body.code ?? r.status));
          await sleep(RETRY_MS);
        }
        out.refused.add("no answer");
      }),
    );
  }
  return { tried: out.tried, sameTicket: out.sameTicket, otherTicket: out.otherTicket, refused: out.refused.counts as Record<string, number> };
}

/** What GET /api/tickets/{id} finally answers for each ticket, polled until final or `timeoutMs`. */
export async function finalAnswers(baseUrl: string, shoppers: Shopper[], tickets: Ticket[], timeoutMs: number) {
  const answers = new Map<string, { status: string; code?: string; orderId?: string }>();
  const end = Date.now() + timeoutMs;
  let pending = tickets;
  while (pending.length && Date.now() < end) {
    const still: Ticket[] = [];
    for (let i = 0; i < pending.length; i += 32) {
      await Promise.all(
        pending.slice(i, i + 32).map(async (t) => {
          const r = await call(`${baseUrl}/api/tickets/${t.ticketId}`, { headers: { cookie: shoppers[t.shopper]!.cookie } });
          const status = r.status === 200 ? String(r.body.status) : `${r.status} ${String(r.body.code ?? "")}`.trim();
          answers.set(t.ticketId, { status, code: r.body.code as string | undefined, orderId: r.body.orderId as string | undefined });
          if (status !== "CONFIRMED" && status !== "REJECTED") still.push(t);
        }),
      );
    }
    pending = still;
    if (pending.length) await sleep(500);
  }
  return answers;
}
