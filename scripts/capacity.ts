// `npm run capacity`: replays the capacity model of docs/capacity.md as a simulation, tick by tick,
// and finds the smallest fleet that keeps the flash crowd's queueing under the target.
//   npm run capacity -- [--waiting 1000000] [--poll-every-s 2] [--clicks 100000] [--stock 1000]
//                       [--cores-per-machine 8] [--utilisation 0.7] [--target-ms 500] [--pops 50]
// Per-request costs default to the README's bench block (this 2-core box); pass --cost-* to replay
// another run's figures. Nothing here talks to a server: it is arithmetic over measured costs.
import { parseArgs } from "node:util";

const { values: v } = parseArgs({
  options: {
    waiting: { type: "string", default: "1000000" },
    "poll-every-s": { type: "string", default: "2" },
    clicks: { type: "string", default: "100000" },
    stock: { type: "string", default: "1000" },
    "cores-per-machine": { type: "string", default: "8" },
    utilisation: { type: "string", default: "0.7" },
    "target-ms": { type: "string", default: "500" },
    pops: { type: "string", default: "50" },
    shards: { type: "string", default: "3" },
    // µs of web CPU per request, measured by `npm run bench -- --scenarios paths` (README block, 2026-12-02 13:57).
    "cost-progress": { type: "string", default: "66" },
    "cost-token": { type: "string", default: "96" },
    "cost-admit": { type: "string", default: "133" },
    "cost-soldout": { type: "string", default: "76" },
    // µs of Redis CPU per admission: the whole redis-server process over the bench's reference admit pass
    // (the README block's "Redis's share" row, same run; the script's own execution was 42 of the 58).
    "cost-redis-admit": { type: "string", default: "58" },
    // Per state read (one HMGET): an estimate, not measured; 50 POPs' reads a second make it negligible.
    "cost-redis-read": { type: "string", default: "5" },
    // Orders one PostgreSQL primary writes per second in 200-row batches (the bench's persisted rate).
    "pg-orders-per-s": { type: "string", default: "1600" },
  },
});
const num = (k: keyof typeof v) => {
  const n = Number(v[k]);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`capacity: --${k}: expected a positive number, got ${v[k]}`);
    process.exit(2);
  }
  return n;
};

const TICK_MS = 10;
const model = {
  waiting: num("waiting"),
  pollEveryS: num("poll-every-s"),
  clicks: num("clicks"),
  stock: num("stock"),
  cores: num("cores-per-machine"),
  util: num("utilisation"),
  targetMs: num("target-ms"),
  pops: num("pops"),
  shards: num("shards"),
  us: { progress: num("cost-progress"), token: num("cost-token"), admit: num("cost-admit"), soldOut: num("cost-soldout") },
  redisUs: { admit: num("cost-redis-admit"), read: num("cost-redis-read") },
  pgOrdersPerS: num("pg-orders-per-s"),
};

/**
 * Click arrivals over the first second: most land in the first 200 ms (people press at the countdown's
 * zero), the rest tail off — an exponential with a 150 ms mean, truncated at 1 s and scaled to `clicks`.
 */
function arrivals(clicks: number): number[] {
  const ticks = 1000 / TICK_MS;
  const w = Array.from({ length: ticks }, (_, i) => Math.exp(-(i * TICK_MS) / 150));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => (x / sum) * clicks);
}

interface Run {
  machines: number;
  p99WaitMs: number;
  drainedMs: number;
  /** When the last unit was admitted: the web layer has sent every admission and the sale's shard has run them. */
  soldOutMs: number;
  peakRedisShardUtil: number;
  /** Ticks in which the sale's shard had more work than one core does (it is single-threaded): the rest waited. */
  redisSaturatedMs: number;
}

/**
 * One sale replayed on `machines` web machines. Each click costs a token and an order; until the stock
 * is gone an order is an admission (web + Redis), after that a sold-out answer from the process-local
 * flag. Polls behind the CDN cost each POP one origin request per second. Work that does not fit a
 * tick waits (FIFO) — the wait of each click is recorded.
 */
function simulate(machines: number): Run {
  const capacityUsPerTick = machines * model.cores * model.util * TICK_MS * 1000;
  const originPollsPerTick = (model.pops * TICK_MS) / 1000; // one per POP per second (max-age=1)
  const queue: { n: number; at: number }[] = [];
  const waits: { n: number; ms: number }[] = [];
  let stockLeft = model.stock;
  let soldOutMs = -1;
  // The sale's shard is one Redis process, one core: work past a tick's worth waits for the next tick.
  const shardUsPerTick = TICK_MS * 1000;
  let redisBacklogUs = 0;
  let redisSaturatedMs = 0;
  let peakShard = 0;
  const arr = arrivals(model.clicks);
  let t = 0;
  for (; t < 600_000 && (t < arr.length * TICK_MS || queue.length); t += TICK_MS) {
    const i = t / TICK_MS;
    if (i < arr.length) queue.push({ n: arr[i]!, at: t });
    let budget = capacityUsPerTick - originPollsPerTick * model.us.progress;
    redisBacklogUs += originPollsPerTick * model.redisUs.read;
    while (queue.length && budget > 0) {
      const head = queue[0]!;
      const admitting = Math.min(head.n, stockLeft);
      const perAdmit = model.us.token + model.us.admit;
      const perSoldOut = model.us.token + model.us.soldOut;
      const costAll = admitting * perAdmit + (head.n - admitting) * perSoldOut;
      const share = Math.min(1, budget / costAll);
      const done = head.n * share;
      const admitted = admitting * share;
      budget -= costAll * share;
      stockLeft -= admitted;
      redisBacklogUs += admitted * model.redisUs.admit;
      waits.push({ n: done, ms: t + TICK_MS - head.at });
      head.n -= done;
      if (share < 1) break; // the tick's CPU is spent
      queue.shift();
    }
    // One sale's admissions all run on its own slot's shard (split stock spreads only the counter).
    const ran = Math.min(redisBacklogUs, shardUsPerTick);
    redisBacklogUs -= ran;
    if (redisBacklogUs > 0) redisSaturatedMs += TICK_MS;
    peakShard = Math.max(peakShard, ran / shardUsPerTick);
    if (stockLeft <= 1e-9 && redisBacklogUs <= 1e-6 && soldOutMs < 0) soldOutMs = t + TICK_MS;
  }
  waits.sort((a, b) => a.ms - b.ms);
  const total = waits.reduce((s, w) => s + w.n, 0);
  let acc = 0;
  let p99 = 0;
  for (const w of waits) {
    acc += w.n;
    if (acc >= total * 0.99) {
      p99 = w.ms;
      break;
    }
  }
  return { machines, p99WaitMs: p99, drainedMs: t, soldOutMs, peakRedisShardUtil: peakShard, redisSaturatedMs };
}

// Polling, steady state: what the CDN absorbs, and what the origin would see without it.
const pollsPerS = model.waiting / model.pollEveryS;
const noCdnCores = (pollsPerS * model.us.progress) / 1e6 / model.util;
const originPollsPerS = model.pops; // max-age=1: one refresh per POP per second per sale

let best: Run | undefined;
for (let m = 1; m <= 10_000; m++) {
  const r = simulate(m);
  if (r.p99WaitMs <= model.targetMs) {
    best = r;
    break;
  }
}
if (!best) throw new Error("no fleet up to 10,000 machines meets the target");
const pgSeconds = model.stock / model.pgOrdersPerS;

const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d });
console.log(`Capacity model (docs/capacity.md), replayed in ${TICK_MS} ms ticks
  inputs: ${fmt(model.waiting)} waiting shoppers polling every ${model.pollEveryS} s; ${fmt(model.clicks)} clicks in the first second; ${fmt(model.stock)} units
          web µs/request: progress ${model.us.progress}, token ${model.us.token}, order admitted ${model.us.admit}, order sold out ${model.us.soldOut}
          Redis µs: admission ${model.redisUs.admit}, state read ${model.redisUs.read}; PostgreSQL ${fmt(model.pgOrdersPerS)} orders/s; machines of ${model.cores} cores at ${model.util * 100}%

Waiting room (steady state)
  polls offered                ${fmt(pollsPerS)} req/s, all answered by the CDN (Cache-Control: public, max-age=1)
  polls reaching the origin    ${fmt(originPollsPerS)} req/s (${model.pops} POPs × 1/s) = ${fmt((originPollsPerS * model.us.progress) / 1e4, 3)} % of a core
  without a CDN                ${fmt(noCdnCores, 1)} cores = ${fmt(Math.ceil(noCdnCores / model.cores))} machines for polling alone

Flash crowd (first second, behind the CDN: buys are never cached)
  web machines needed          ${best.machines} (${best.machines * model.cores} cores) for a p99 queueing wait ≤ ${model.targetMs} ms
  p99 wait / all answered      ${fmt(best.p99WaitMs)} ms / ${fmt(best.drainedMs)} ms after the start
  sold out at                  ${fmt(best.soldOutMs)} ms
  Redis, the sale's shard      peak ${fmt(best.peakRedisShardUtil * 100, 1)} % of one core${best.redisSaturatedMs ? `, saturated for ${fmt(best.redisSaturatedMs)} ms (admissions waited there)` : ""} (one sale's admissions run on its own slot's shard; ${model.shards} shards hold other sales)
  PostgreSQL                   ${fmt(model.stock)} orders persisted in ~${fmt(pgSeconds, 1)} s by the workers (batches of 200), off the request path
`);
const smaller = best.machines > 1 ? simulate(best.machines - 1) : null;
if (smaller) console.log(`  one machine fewer (${smaller.machines}): p99 wait ${fmt(smaller.p99WaitMs)} ms, all answered at ${fmt(smaller.drainedMs)} ms`);
