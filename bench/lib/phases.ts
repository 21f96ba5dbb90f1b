import type { RedisClient } from "@/lib/redis-connect";
import { db } from "@/lib/db";
import { randomBytes } from "node:crypto";
import { readState } from "@/lib/flash/store";
import { runDraw } from "@/lib/flash/fair-entry";
import { createApiKey } from "@/lib/channels";
import { API_KEY_HEADER } from "@/lib/flash/http";
import { createBenchActivity, type BenchActivity } from "@/bench/lib/activity";
import { startBots, type BotSummary } from "@/bench/lib/bots";
import { runBuyers, type BuyPhase, type HeldTicket } from "@/bench/lib/buyers";
import { checkBenchInvariants, waitForDrain, type Check } from "@/bench/lib/invariants";
import { CostMeter, firstPid, type OriginCost, type ProcessSet } from "@/bench/lib/probes";
import type { PollLevel } from "@/bench/lib/polling";
import { CounterSampler, type Persistence } from "@/bench/lib/sampler";
import { withPasses, type Shopper } from "@/bench/lib/sessions";
import type { PassKeys } from "@/lib/captcha/pass";
import { WaitingBrowsers, type WatchSummary } from "@/bench/lib/watchers";

export type BuyResult = Omit<BuyPhase, "tickets" | "handedTokens" | "firstSoldOutAt"> & {
  cost: OriginCost;
  /** CPU the web process(es) spent per HTTP request: the origin's cost, less sensitive to the generator than req/s. */
  webMicrosPerRequest: number;
};

/** prequeue: the flash sale with a pre-queue draw (--prequeue N); channels: split into channels (--channels N). */
export type SaleKind = "warmup" | "flash" | "admit" | "split" | "prequeue" | "channels";

export interface SalePhase {
  kind: SaleKind;
  activity: { id: string; stock: number; limit: number; shoppers: number };
  buy: BuyResult;
  /** The sold-out crowd hammering Buy after the sale sold out (flash only). */
  soldOut?: BuyResult;
  /** The same crowd learning "sold out" from the shared progress through an edge cache instead (flash only). */
  soldOutEdge?: PollLevel;
  watchers: WatchSummary;
  /** Milliseconds from the sale's start. */
  timeline: {
    soldOutMs: number | null;
    allAnsweredMs: number | null;
    lastOrderCreatedMs: number | null;
    /** When the crowd got its first, median and last admission (202), after the start. */
    admittedMs?: { first: number; median: number; last: number };
  };
  persistence: Persistence | null;
  /** split only: the workers were paused during the load; from their resumption to the last answer. */
  drain?: { backlog: number; seconds: number; perSec: number };
  checks: Check[];
  /** --bots: what the bots did alongside the flash crowd (flash only). */
  bots?: BotSummary;
  /** prequeue: shoppers in the pre-queue; channels: how many channels. */
  prequeue?: number;
  channels?: number;
}

interface Common {
  baseUrl: string;
  redis: RedisClient;
  procs: ProcessSet;
  shoppers: Shopper[];
  quantity: number;
  connections: number;
  maxSeconds: number;
  watchers: number;
  batchSize: number;
  workers: number;
  log: (line: string) => void;
  /** --bots: the bot scenario runs alongside the flash crowd. */
  bots?: boolean;
  /** The gate is on: sales require the human check and every shopper holds a pass for the sale. */
  gate?: PassKeys;
  /** Called before the sale is created: e.g. waits for a quiet machine. */
  beforeSale?: () => Promise<void>;
  /** --segments: every sale's stock counter split into this many segments in Redis. */
  segments?: number;
}

/**
 * One sale from start to the invariant check: the crowd clicks once each at the start, ticket holders
 * wait and poll, optionally the refused crowd keeps clicking, then the queue drains and both stores
 * are read back.
 */
export async function runSale(
  c: Common,
  kind: SaleKind,
  sale: {
    stock: number; limit: number; buyers: number; soldOutSeconds?: number;
    /** The crowd's first N shoppers join the sale's pre-queue before the start (docs/fair-entry.md). */
    prequeue?: number;
    /** The stock split evenly over this many channels: web, app, then partners (docs/channels.md). */
    channels?: number;
  },
): Promise<SalePhase> {
  // split: admission alone (workers stopped with SIGSTOP), then the workers alone on the backlog.
  const paused = kind === "split" ? c.procs.workers.filter((p): p is number => Boolean(p)) : [];
  await c.beforeSale?.();
  const channels = channelNames(sale.channels ?? 0);
  const a = await createBenchActivity(kind, {
    stock: sale.stock, limit: sale.limit, leadMs: 2000, humanCheck: !!c.gate,
    // A pre-queue or channels keep one segment (docs/fair-entry.md, docs/channels.md).
    segments: sale.prequeue || channels.length ? 1 : c.segments,
    prequeueMinutes: sale.prequeue ? 5 : 0,
    channels: channels.length ? Object.fromEntries(channels.map((ch, i) => [ch, Math.floor(sale.stock / channels.length) + (i < sale.stock % channels.length ? 1 : 0)])) : undefined,
  });
  if (sale.prequeue) await seedPrequeue(a.id, c.shoppers.slice(0, Math.min(sale.prequeue, sale.buyers)));
  const via = channels.length ? await channelRequests(a.id, channels, c.shoppers) : undefined;
  if (c.gate) c = { ...c, shoppers: withPasses(c.gate, a.id, c.shoppers) };
  const sampler = new CounterSampler(c.redis, a.id);
  const watchers = new WaitingBrowsers(c.baseUrl, a.id, c.shoppers, c.watchers);
  const order = Array.from({ length: sale.buyers }, (_, i) => i);
  sampler.start();
  // The bot account is the crowd's last shopper: a scalper among the buyers. Its process starts
  // during the lead time (tsx takes a moment), so the bots are at work when the sale opens.
  const bots = c.bots && kind === "flash" ? startBots({ baseUrl: c.baseUrl, activityId: a.id, bot: c.shoppers[sale.buyers - 1]!, webPid: firstPid(c.procs.web) }) : null;
  await sleepUntil(a.startMs + 1);
  if (sale.prequeue) {
    // The draw at the start, as the scheduler makes it (admission waits for it): made here so the crowd
    // meets a drawn sale rather than UNAVAILABLE for the scheduler's next pass.
    const d = await runDraw(db(), c.redis, a.id);
    c.log(`${kind}: drawn; ${d?.entries ?? 0} of the pre-queue's ${sale.prequeue} entries hold ${d?.reserved ?? 0} units`);
  }
  c.log(
    `${kind}: ${sale.buyers} shoppers click at the start of a ${sale.stock}-unit sale (${c.connections} connections)`,
  );

  const meter = new CostMeter(c.redis, c.procs);
  await meter.start();
  for (const pid of paused) {
    stopped.add(pid);
    process.kill(pid, "SIGSTOP");
  }
  let buy: Awaited<ReturnType<typeof runBuyers>>;
  let resumedAt = 0;
  let botSummary: BotSummary | undefined;
  try {
    buy = await runBuyers({
      baseUrl: c.baseUrl,
      activityId: a.id,
      shoppers: c.shoppers,
      order,
      quantity: c.quantity,
      connections: c.connections,
      maxSeconds: c.maxSeconds,
      onAdmitted: (t) => watchers.add(t),
      via,
    });
  } finally {
    resumeWorkers();
    resumedAt = Date.now();
    botSummary = await bots?.stop();
  }
  const buyCost = await meter.stop();
  const backlog = paused.length ? await queueLength(c.redis, a.id) : 0;

  let soldOut: BuyResult | undefined;
  if (sale.soldOutSeconds) {
    // Shoppers refused at the start keep clicking with the token they were handed; a script would.
    const held = new Set(buy.tickets.map((t) => t.shopper));
    const refusedOrder = order.filter((i) => !held.has(i) && buy.handedTokens.has(i));
    const tokens = buy.handedTokens;
    if (refusedOrder.length > 0) {
      c.log(`${kind}: the refused crowd keeps clicking for ${sale.soldOutSeconds} s`);
      const m = new CostMeter(c.redis, c.procs);
      await m.start();
      const r = await runBuyers({
        baseUrl: c.baseUrl,
        activityId: a.id,
        shoppers: c.shoppers,
        order: refusedOrder,
        quantity: c.quantity,
        connections: c.connections,
        maxSeconds: sale.soldOutSeconds,
        postOnly: { tokens, loopSeconds: sale.soldOutSeconds },
        via,
      });
      soldOut = withCost(strip(r), await m.stop());
      buy.tickets.push(...r.tickets);
    }
  }

  const drain = await waitForDrain(c.redis, a.id, 180_000);
  const watch = await watchers.finish(20_000);
  await sampler.stop();
  if (sampler.maxGapMs() > 200)
    c.log(`${kind}: note: the counter sampler paused for ${sampler.maxGapMs()} ms; timings are that coarse`);
  c.log(
    `${kind}: ${buy.tickets.length} tickets, queue ${drain.drained ? "drained" : "NOT drained"}; checking invariants`,
  );

  const replays = await replayClicks(c, a, buy.tickets.slice(0, 50));
  const foreignReads = await readOthersTickets(c, buy.tickets.slice(0, 20));
  const checks = await checkBenchInvariants(c.redis, a, {
    ticketIds: buy.tickets.map((t) => t.ticketId),
    minRedisStock: sampler.minStock,
    replays,
    unanswered: watch.seen.unfinished,
    foreignReads,
  });
  if (!drain.drained)
    checks.push({ invariant: "I2", name: "queue drained within 180 s", ok: false, detail: "timed out" });
  // Not an invariant but a precondition: with more shoppers than units the sale must sell out, else
  // the checks above may have held only because nothing happened (e.g. every click was refused as 401).
  const admittedUnits = buy.tickets.length * c.quantity;
  // Clicks the load phase completed: a phase cut short by --duration on a busy machine sells less.
  const expected = Math.min(sale.stock, Math.min(sale.buyers, buy.clicks) * c.quantity);
  checks.push({
    invariant: "RUN",
    name: "the crowd bought the stock (the buy path was exercised)",
    ok: admittedUnits + c.quantity > expected,
    detail: `${admittedUnits} of ${expected} units admitted (${buy.clicks} of ${sale.buyers} clicks completed); unexpected answers ${JSON.stringify(buy.errors.unexpected)}`,
  });

  const soldOutAt = (await readState(c.redis, a.id))?.soldOutAt ?? NaN;
  const answeredAt = sampler.allAnsweredAt();
  const last = await db().order.aggregate({ where: { activityId: a.id }, _max: { createdAt: true } });
  return {
    kind,
    ...(sale.prequeue ? { prequeue: Math.min(sale.prequeue, sale.buyers) } : {}),
    ...(channels.length ? { channels: channels.length } : {}),
    activity: { id: a.id, stock: a.stock, limit: a.limit, shoppers: sale.buyers },
    buy: withCost(strip(buy), buyCost),
    soldOut,
    watchers: watch,
    timeline: {
      soldOutMs: Number.isFinite(soldOutAt) ? soldOutAt - a.startMs : null,
      allAnsweredMs: answeredAt !== null ? answeredAt - a.startMs : null,
      lastOrderCreatedMs: last._max.createdAt ? last._max.createdAt.getTime() - a.startMs : null,
      ...admissionTimes(buy.tickets, a.startMs),
    },
    persistence: sampler.persistence(c.batchSize, c.workers),
    ...(botSummary ? { bots: botSummary } : {}),
    ...(paused.length && answeredAt
      ? {
          drain: {
            backlog,
            seconds: (answeredAt - resumedAt) / 1000,
            perSec: Math.round((backlog * 1000) / Math.max(1, answeredAt - resumedAt)),
          },
        }
      : {}),
    checks,
  };
}

function withCost(b: Omit<BuyResult, "cost" | "webMicrosPerRequest">, cost: OriginCost): BuyResult {
  const requests = b.requestsPerSec * b.seconds;
  return {
    ...b,
    cost,
    webMicrosPerRequest: requests ? Math.round(((cost.cpu.web / 100) * cost.seconds * 1e6) / requests) : 0,
  };
}

/** The figures of a phase, without the per-shopper data kept for the checks. */
function strip(p: BuyPhase): Omit<BuyResult, "cost" | "webMicrosPerRequest"> {
  return {
    clicks: p.clicks,
    seconds: p.seconds,
    requestsPerSec: p.requestsPerSec,
    orders: p.orders,
    tokens: p.tokens,
    errors: p.errors,
  };
}

/** The buy panel retries a click whose answer was lost with the same key: it must get the same ticket. */
async function replayClicks(c: Common, a: BenchActivity, tickets: HeldTicket[]) {
  let sameTicket = 0;
  for (const t of tickets) {
    const res = await fetch(`${c.baseUrl}/api/activities/${a.id}/orders`, {
      method: "POST",
      headers: { cookie: c.shoppers[t.shopper]!.cookie, "content-type": "application/json" },
      body: JSON.stringify({ quantity: c.quantity, idempotencyKey: t.idempotencyKey, token: t.token }),
    });
    const body = (await res.json().catch(() => ({}))) as { ticketId?: string };
    if (res.status === 202 && body.ticketId === t.ticketId) sameTicket++;
  }
  return { tried: tickets.length, sameTicket };
}

/** I5: someone else's ticket reads as missing (404), and without a session as 401. */
async function readOthersTickets(c: Common, tickets: HeldTicket[]) {
  let hidden = 0;
  for (const t of tickets) {
    const other = c.shoppers[(t.shopper + 1) % c.shoppers.length]!;
    const [foreign, anonymous] = await Promise.all([
      fetch(`${c.baseUrl}/api/tickets/${t.ticketId}`, { headers: { cookie: other.cookie } }),
      fetch(`${c.baseUrl}/api/tickets/${t.ticketId}`),
    ]);
    if (foreign.status === 404 && anonymous.status === 401) hidden++;
    await Promise.all([foreign.text(), anonymous.text()]);
  }
  return { tried: tickets.length, hidden };
}

const stopped = new Set<number>();

/** Continues workers a split sale stopped; also on the way out, so a stopped worker can take its SIGTERM. */
export function resumeWorkers() {
  for (const pid of stopped) {
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // already gone
    }
  }
  stopped.clear();
}

/** Tickets admitted and not answered yet. */
async function queueLength(r: RedisClient, activityId: string): Promise<number> {
  const s = await readState(r, activityId);
  return s ? s.admitted - s.served : 0;
}

async function sleepUntil(ms: number) {
  const wait = ms - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** The channels of a --channels N sale: web, app, then partner channels. */
function channelNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? "web" : i === 1 ? "app" : `partner-${i - 1}`));
}

/**
 * Pre-queue entries for the crowd's first shoppers, written in bulk: the join itself (one transaction
 * each, POST …/prequeue) has its own tests; the bench measures the sale the draw leads to.
 */
async function seedPrequeue(activityId: string, shoppers: Shopper[]): Promise<void> {
  const now = new Date();
  for (let i = 0; i < shoppers.length; i += 5000) {
    await db().drawEntry.createMany({
      data: shoppers.slice(i, i + 5000).map((s) => ({ activityId, userId: s.id, entryId: randomBytes(12).toString("base64url"), joinedAt: now })),
    });
  }
}

/**
 * How each shopper of a channel sale sends their order: shopper i buys through channel i mod N. web:
 * the storefront's cookie; app: the same session as a bearer token (the app's API); a partner: the
 * shopper's bearer token and the partner's API key, on the partner route.
 */
async function channelRequests(activityId: string, channels: string[], shoppers: Shopper[]) {
  const keys = new Map<string, string>();
  for (const ch of channels.filter((x) => x !== "web" && x !== "app")) keys.set(ch, (await createApiKey(db(), ch, "bench")).key);
  const bearer = (s: Shopper) => `Bearer ${s.cookie.slice(s.cookie.indexOf("=") + 1)}`;
  return (i: number): { path: string; headers: Record<string, string> } | null => {
    const ch = channels[i % channels.length]!;
    const s = shoppers[i]!;
    if (ch === "web") return null;
    if (ch === "app") return { path: `/api/activities/${activityId}/orders`, headers: { authorization: bearer(s) } };
    return { path: `/api/partner/activities/${activityId}/orders`, headers: { authorization: bearer(s), [API_KEY_HEADER]: keys.get(ch)! } };
  };
}

function admissionTimes(tickets: { admittedAt: number }[], startMs: number) {
  if (!tickets.length) return {};
  const at = tickets.map((t) => t.admittedAt - startMs).sort((x, y) => x - y);
  return { admittedMs: { first: at[0]!, median: at[Math.floor(at.length / 2)]!, last: at[at.length - 1]! } };
}
