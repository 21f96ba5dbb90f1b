import { randomUUID } from "node:crypto";
import autocannon, { type RequestParams, type Result } from "autocannon";
import type { RedisClient } from "@/lib/redis-connect";
import { createBenchActivity } from "@/bench/lib/activity";
import { buyRequest, type HeldTicket } from "@/bench/lib/buyers";
import { checkBenchInvariants, waitForDrain, type Check } from "@/bench/lib/invariants";
import { CostMeter, type OriginCost, type ProcessSet } from "@/bench/lib/probes";
import { CounterSampler } from "@/bench/lib/sampler";
import type { Shopper } from "@/bench/lib/sessions";
import { Counter, Samples, round, type LatencySummary } from "@/bench/lib/stats";

/**
 * The storefront's hot paths, each measured alone (the sold-out path is the soldout scenario's).
 * orderAdmittedApart: admitted orders again, with the workers and PostgreSQL moved to a core of their own.
 */
export type PathName = "token" | "orderAdmitted" | "orderAdmittedApart" | "orderRefused" | "progress" | "ticket";

export interface PathFigure {
  path: PathName;
  requests: number;
  seconds: number;
  requestsPerSec: number;
  latency: LatencySummary;
  /** Answers by status and code; `unexpected` counts those that are not this path's answer. */
  answers: Record<string, number>;
  unexpected: number;
  socketErrors: number;
  cost: OriginCost;
  /** CPU the web process(es) spent per request of this path (from /proc, not the generator). */
  webMicrosPerRequest: number;
}

export interface PathsPhase {
  activity: { id: string; stock: number; shoppers: number };
  figures: PathFigure[];
  checks: Check[];
}

interface Step {
  /** The next request, or null once this step has nothing more to send. */
  next(): (RequestParams & { meta?: unknown }) | null;
  /** Whether the answer is this path's expected one; may record what it learned. */
  answer(status: number, body: string, meta: unknown): boolean;
}

/**
 * CPU per request of each hot path, one path at a time on a sale of its own (stock 2× the shoppers,
 * so nothing sells out): every shopper GETs a token, POSTs one order (admitted), POSTs again with a
 * fresh key (refused in Lua: LIMIT_REACHED), then the crowd GETs the shared progress and the ticket
 * holders their own ticket, each for `seconds`. The workers persist alongside, as in a sale.
 *
 * With `apart`, the token holders are split in two: the first half's orders are admitted with every
 * server on the same core(s), then, once the workers have caught up, the second half's with the
 * persistence tier (workers, PostgreSQL) moved off them by `apart.move()` (and back after).
 */
export async function runPaths(c: {
  baseUrl: string;
  redis: RedisClient;
  procs: ProcessSet;
  shoppers: Shopper[];
  connections: number;
  seconds: number;
  log: (line: string) => void;
  apart?: { move(): void; back(): void };
}): Promise<PathsPhase> {
  const shoppers = c.shoppers.length;
  const a = await createBenchActivity("paths", { stock: 2 * shoppers, limit: 1, leadMs: 1000 });
  const sampler = new CounterSampler(c.redis, a.id);
  sampler.start();
  await new Promise((r) => setTimeout(r, Math.max(0, a.startMs + 1 - Date.now())));
  const base = `/api/activities/${a.id}`;
  const tokens = new Map<number, string>();
  const tickets: HeldTicket[] = [];
  const once = (f: (i: number) => RequestParams & { meta?: unknown }) => {
    let i = 0;
    return () => (i < shoppers ? f(i++) : null);
  };
  const cycle = <T>(list: T[], f: (x: T) => RequestParams & { meta?: unknown }) => {
    let i = 0;
    return () => (list.length ? f(list[i++ % list.length]!) : null);
  };
  const order = (shopper: number, idempotencyKey = randomUUID()) => ({
    method: "POST",
    path: `${base}/orders`,
    ...buyRequest(c.shoppers[shopper]!.cookie, 1, idempotencyKey, tokens.get(shopper)),
  });

  // Admitted orders from the token holders in [from, to) of the list (the half of each pass with `apart`).
  const admitted = (from: number, to: number): Step => {
    const holders = [...tokens.keys()];
    let i = Math.floor(from * holders.length);
    const end = Math.floor(to * holders.length);
    return {
      next: () => {
        if (i >= end) return null;
        const shopper = holders[i++]!;
        const idempotencyKey = randomUUID();
        return { ...order(shopper, idempotencyKey), meta: { shopper, idempotencyKey } };
      },
      answer: (status, body, meta) => {
        const r = json(body);
        if (status !== 202 || typeof r.ticketId !== "string") return false;
        const m = meta as { shopper: number; idempotencyKey: string };
        tickets.push({
          shopper: m.shopper,
          ticketId: r.ticketId,
          sequence: Number(r.sequence),
          idempotencyKey: m.idempotencyKey,
          token: tokens.get(m.shopper)!,
          admittedAt: Date.now(),
        });
        return true;
      },
    };
  };
  const apart = c.apart;

  const steps: [PathName, () => Step][] = [
    [
      "token",
      () => ({
        next: once((i) => ({
          method: "GET",
          path: `${base}/token`,
          headers: { cookie: c.shoppers[i]!.cookie },
          meta: i,
        })),
        answer: (status, body, meta) => {
          const t = json(body).token;
          if (status !== 200 || typeof t !== "string") return false;
          tokens.set(meta as number, t);
          return true;
        },
      }),
    ],
    ["orderAdmitted", () => admitted(0, apart ? 0.5 : 1)],
    ...(apart ? [["orderAdmittedApart", () => admitted(0.5, 1)] as [PathName, () => Step]] : []),
    [
      "orderRefused",
      () => ({
        next: cycle(tickets, (t) => order(t.shopper)),
        answer: (status, body) => status === 409 && json(body).code === "LIMIT_REACHED",
      }),
    ],
    [
      "progress",
      () => ({
        next: () => ({ method: "GET", path: `${base}/progress` }),
        answer: (status) => status === 200,
      }),
    ],
    [
      "ticket",
      () => ({
        next: cycle(tickets, (t) => ({
          method: "GET",
          path: `/api/tickets/${t.ticketId}`,
          headers: { cookie: c.shoppers[t.shopper]!.cookie },
        })),
        answer: (status) => status === 200,
      }),
    ],
  ];

  const figures: PathFigure[] = [];
  for (const [name, make] of steps) {
    const moved = name === "orderAdmittedApart" ? apart : undefined;
    // The first pass's backlog is persisted first, so the moved workers persist only their own pass's orders.
    if (moved) {
      await waitForDrain(c.redis, a.id, 180_000);
      moved.move();
    }
    c.log(`paths: ${name}${moved ? " (workers and PostgreSQL on a core of their own)" : ""} for up to ${c.seconds} s`);
    try {
      figures.push(await drive(c, name, make()));
      if (moved) await waitForDrain(c.redis, a.id, 180_000);
    } finally {
      moved?.back();
    }
  }

  const drain = await waitForDrain(c.redis, a.id, 180_000);
  await sampler.stop();
  const checks = await checkBenchInvariants(c.redis, a, {
    ticketIds: tickets.map((t) => t.ticketId),
    minRedisStock: sampler.minStock,
    replays: { tried: 0, sameTicket: 0 },
    unanswered: 0,
    foreignReads: { tried: 0, hidden: 0 },
  });
  if (!drain.drained)
    checks.push({ invariant: "I2", name: "queue drained within 180 s", ok: false, detail: "timed out" });
  checks.push({
    invariant: "RUN",
    name: "every path was exercised (tokens handed, orders admitted)",
    ok: tokens.size > 0 && tickets.length > 0,
    detail: `${tokens.size} tokens, ${tickets.length} tickets of ${shoppers} shoppers`,
  });
  return { activity: { id: a.id, stock: a.stock, shoppers }, figures, checks };
}

/** One path in a closed loop over keep-alive connections until its requests or `seconds` run out. */
async function drive(
  c: { baseUrl: string; redis: RedisClient; procs: ProcessSet; connections: number; seconds: number },
  name: PathName,
  step: Step,
): Promise<PathFigure> {
  const lat = new Samples();
  const answers = new Counter();
  let unexpected = 0;
  let first = 0;
  let last = 0;
  let exhausted = false;
  interface Ctx {
    t0?: number;
    meta?: unknown;
    idle?: boolean;
  }
  const meter = new CostMeter(c.redis, c.procs);
  await meter.start();
  let inst: ReturnType<typeof autocannon> | undefined;
  const result = await new Promise<Result>((resolve, reject) => {
    inst = autocannon<Ctx>(
      {
        url: c.baseUrl,
        connections: c.connections,
        duration: c.seconds,
        timeout: 10,
        sampleInt: 100,
        requests: [
          {
            method: "GET",
            path: "/api/time",
            setupRequest: (req, ctx) => {
              const r = exhausted ? null : step.next();
              if (!r) {
                // autocannon cannot skip the only request of a list: idle on the cheapest route and stop.
                if (!exhausted) {
                  exhausted = true;
                  // setupRequest runs inside autocannon() for the first requests, before `inst` is set.
                  setImmediate(() => inst?.stop());
                }
                ctx.idle = true;
                return { ...req, method: "GET", path: "/api/time", headers: {}, body: undefined };
              }
              const { meta, ...params } = r;
              ctx.idle = false;
              ctx.meta = meta;
              ctx.t0 = performance.now();
              if (!first) first = ctx.t0;
              return { ...req, ...params };
            },
            onResponse: (status, body, ctx) => {
              if (ctx.idle) return;
              const now = performance.now();
              last = now;
              lat.add(now - ctx.t0!);
              const code = status === 200 || status === 202 ? "" : ` ${String(json(body).code ?? "")}`;
              answers.add(`${status}${code}`);
              if (!step.answer(status, body, ctx.meta)) unexpected++;
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
  const cost = await meter.stop();
  const seconds = last > first ? (last - first) / 1000 : result.duration;
  const requests = lat.count;
  return {
    path: name,
    requests,
    seconds: round(seconds, 3),
    requestsPerSec: round(requests / seconds, 0),
    latency: lat.summary(),
    answers: answers.counts as Record<string, number>,
    unexpected,
    socketErrors: result.errors + result.timeouts,
    cost,
    // The meter's window includes the few idle requests at the end; with the load over, they cost little.
    webMicrosPerRequest: requests ? Math.round(((cost.cpu.web / 100) * cost.seconds * 1e6) / requests) : 0,
  };
}

function json(body: string): Record<string, unknown> {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
}
