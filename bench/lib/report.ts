import os from "node:os";
import type { Check } from "@/bench/lib/invariants";
import type { BuyResult, SalePhase } from "@/bench/lib/phases";
import type { PathsPhase } from "@/bench/lib/paths";
import type { PollLevel } from "@/bench/lib/polling";
import type { ReferenceFigure, ReferenceRun } from "@/bench/lib/reference";
import { generatorPercent, type RatioRow } from "@/bench/lib/table";
import type { OriginCost } from "@/bench/lib/probes";
import { median, round, type LatencySummary } from "@/bench/lib/stats";

const n = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined || !Number.isFinite(x)
    ? "n/a"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits });
const lat = (l: LatencySummary) =>
  `p50 ${l.p50} ms · p95 ${l.p95} · p99 ${l.p99} · max ${l.max} (${n(l.count)} requests)`;
const cost = (c: OriginCost) =>
  `Redis ${n(c.redisCommandsPerSec)} cmd/s · CPU % of a core: web ${c.cpu.web}, workers ${c.cpu.workers}, redis ${c.cpu.redis}, ` +
  `${c.cpu.database === null ? "" : `database ${c.cpu.database}, `}load generator ${c.cpu.generator}, other ${c.cpu.other} (machine busy ${c.cpu.machineBusy} of ${os.cpus().length * 100})`;

export function printBuy(title: string, b: BuyResult) {
  console.log(`  ${title}`);
  console.log(
    `    requests     ${n(b.requestsPerSec)} req/s over ${b.seconds} s (token ${n(b.tokens.perSec)}/s + order ${n(b.orders.perSec)}/s)`,
  );
  console.log(
    `    orders       admitted ${n(b.orders.admittedPerSec)}/s (${n(b.orders.admitted)}), refused ${n(b.orders.refusedPerSec)}/s ${JSON.stringify(b.orders.refused)}`,
  );
  console.log(`    order lat.   ${lat(b.orders.latency)}`);
  if (b.tokens.latency.count) console.log(`    token lat.   ${lat(b.tokens.latency)}`);
  console.log(
    `    errors       ${b.errors.total} (unexpected answers ${JSON.stringify(b.errors.unexpected)}, socket ${b.errors.socket}, timeouts ${b.errors.timeouts})`,
  );
  console.log(`    origin       ${cost(b.cost)}; web ${b.webMicrosPerRequest} µs of CPU per request`);
}

export function printSale(p: SalePhase) {
  const title = {
    warmup: `Warm-up sale: ${n(p.activity.shoppers)} shoppers, ${n(p.activity.stock)} units`,
    flash: `Flash crowd: ${n(p.activity.shoppers)} shoppers click once at the start of a ${n(p.activity.stock)}-unit sale`,
    admit: `Admission throughput: ${n(p.activity.shoppers)} shoppers, ${n(p.activity.stock)} units (every click admitted, workers persisting alongside)`,
    split: `Admission alone, then persistence alone: ${n(p.activity.shoppers)} shoppers, ${n(p.activity.stock)} units (workers paused during the load)`,
    prequeue: `Flash crowd with a pre-queue draw: ${n(p.activity.shoppers)} shoppers click once at the start of a ${n(p.activity.stock)}-unit sale, the first ${n(p.prequeue ?? 0)} of them drawn`,
    channels: `Flash crowd over ${p.channels ?? 0} channels: ${n(p.activity.shoppers)} shoppers click once at the start of a ${n(p.activity.stock)}-unit sale split evenly (web cookie, app bearer, partners' API keys)`,
  }[p.kind];
  console.log(`\n${title}`);
  printBuy("buy path (GET token, POST order)", p.buy);
  if (p.soldOut) printBuy("sold-out crowd (POST order again and again)", p.soldOut);
  const e = p.soldOutEdge;
  if (e)
    console.log(
      `  via an edge   the same crowd reading the shared progress (soldOut: true) through the edge cache: ${n(e.achievedPerSec)} req/s served, ` +
        `${n(e.originRequestsPerSec, 1)} req/s reached the origin (web ${e.origin.cpu.web}% of a core, edge ${e.edgeCpu ?? "-"}%), p99 ${e.latency.p99} ms, errors ${e.errors + e.non2xx}`,
    );
  console.log(
    `  timeline      sold out ${n(p.timeline.soldOutMs)} ms after the start · every ticket answered (orders committed) ${n(p.timeline.allAnsweredMs)} ms · last order row created ${n(p.timeline.lastOrderCreatedMs)} ms${p.timeline.admittedMs ? ` · admissions answered from ${n(p.timeline.admittedMs.first)} ms (median ${n(p.timeline.admittedMs.median)}, last ${n(p.timeline.admittedMs.last)})` : ""}`,
  );
  const ps = p.persistence;
  if (ps) {
    console.log(
      `  workers       ${n(ps.orders)} tickets answered in ${ps.seconds} s from the first admission = ${n(ps.perSec)} orders/s end to end; ` +
        (ps.saturated
          ? `${n(ps.saturated.perSec)} orders/s while a backlog of ≥ a batch per worker waited (${ps.saturated.seconds.toFixed(2)} s)`
          : `the workers kept up (largest backlog ${ps.maxBacklog})`),
    );
  }
  if (p.bots) {
    const b = p.bots;
    console.log(
      `  bots          one account on 50 connections: ${n(b.flood.requests)} token requests ${JSON.stringify(b.flood.statuses)}; ` +
        `${n(b.signIns.attempts)} wrong sign-ins ${JSON.stringify(b.signIns.statuses)}; ${n(b.forged.requests)} forged bearer tokens ${JSON.stringify(b.forged.statuses)}; ` +
        `web RSS ${b.webRssMiB.before} → ${b.webRssMiB.after} MiB`,
    );
  }
  if (p.drain)
    console.log(
      `  drain         workers resumed with ${n(p.drain.backlog)} tickets queued: all answered in ${p.drain.seconds.toFixed(2)} s = ${n(p.drain.perSec)} orders/s`,
    );
  const w = p.watchers;
  console.log(
    `  waiting       ${n(w.browsers)} ticket holders polling: ${n(w.requests.perSec)} req/s (progress ${n(w.requests.progress)}, ticket ${n(w.requests.ticket)}); ` +
      `saw CONFIRMED ${w.seen.CONFIRMED}, REJECTED ${w.seen.REJECTED}, nothing ${w.seen.unfinished}; time to answer p50 ${w.timeToAnswer.p50} ms, p99 ${w.timeToAnswer.p99} ms` +
      (Object.keys(w.errors).length ? `; errors ${JSON.stringify(w.errors)}` : ""),
  );
  printChecks(p.checks);
}

export function printChecks(checks: (Check & { phase?: string })[]) {
  for (const c of checks)
    console.log(
      `  ${c.ok ? "✓" : "✗ VIOLATION"} ${c.phase ? `[${c.phase}] ` : ""}${c.invariant} ${c.name}: ${c.detail}`,
    );
}

export function printPolling(idle: OriginCost | null, levels: PollLevel[]) {
  console.log("\nPolling: waiting shoppers each GET the shared progress once a second");
  if (idle)
    console.log(`  idle baseline (no requests): ${cost(idle)}; busiest commands/s ${JSON.stringify(idle.redisTop)}`);
  console.log(
    "  pollers  via     offered/s  achieved/s  at origin/s  Redis cmd/s  HGETALL/s  web CPU%  edge CPU%  p99 ms  errors",
  );
  for (const l of levels) {
    console.log(
      `  ${n(l.pollers).padStart(7)}  ${l.via.padEnd(6)}  ${n(l.offeredPerSec).padStart(9)}  ${n(l.achievedPerSec).padStart(10)}  ` +
        `${n(l.originRequestsPerSec, 1).padStart(11)}  ${n(l.origin.redisCommandsPerSec, 1).padStart(11)}  ${n(l.origin.redisTop.hgetall ?? 0, 1).padStart(9)}  ` +
        `${String(l.origin.cpu.web).padStart(8)}  ${String(l.edgeCpu ?? "-").padStart(9)}  ${String(l.latency.p99).padStart(6)}  ${l.errors + l.non2xx}`,
    );
  }
}

/** The headline figures of each run, and their medians over the runs. */
export function headline(runs: SalePhase[][]) {
  const pick = (kind: string, f: (p: SalePhase) => number | null | undefined) =>
    runs.flatMap((r) => r.filter((p) => p.kind === kind).map((p) => f(p) ?? NaN)).filter((x) => Number.isFinite(x));
  const rows: [string, number[], string][] = [
    ["flash: buy path req/s (token+order)", pick("flash", (p) => p.buy.requestsPerSec), "req/s"],
    ["flash: order p99", pick("flash", (p) => p.buy.orders.latency.p99), "ms"],
    ["flash: web CPU per request", pick("flash", (p) => p.buy.webMicrosPerRequest), "µs"],
    ["flash: sold out after start", pick("flash", (p) => p.timeline.soldOutMs), "ms"],
    ["flash: all orders persisted after start", pick("flash", (p) => p.timeline.allAnsweredMs), "ms"],
    ["flash: worker persistence, end to end", pick("flash", (p) => p.persistence?.perSec), "orders/s"],
    ["sold-out answers", pick("flash", (p) => p.soldOut?.orders.perSec), "req/s"],
    ["sold-out p99", pick("flash", (p) => p.soldOut?.orders.latency.p99), "ms"],
    ["admit: buy path req/s (token+order)", pick("admit", (p) => p.buy.requestsPerSec), "req/s"],
    ["admit: admitted orders/s", pick("admit", (p) => p.buy.orders.admittedPerSec), "orders/s"],
    ["admit: order p99", pick("admit", (p) => p.buy.orders.latency.p99), "ms"],
    ["admit: token p99", pick("admit", (p) => p.buy.tokens.latency.p99), "ms"],
    ["admit: worker persistence, end to end", pick("admit", (p) => p.persistence?.perSec), "orders/s"],
    ["admit: worker persistence, saturated", pick("admit", (p) => p.persistence?.saturated?.perSec), "orders/s"],
    ["split: buy path req/s (token+order), workers paused", pick("split", (p) => p.buy.requestsPerSec), "req/s"],
    ["split: order p99", pick("split", (p) => p.buy.orders.latency.p99), "ms"],
    ["split: token p99", pick("split", (p) => p.buy.tokens.latency.p99), "ms"],
    ["split: web CPU per request", pick("split", (p) => p.buy.webMicrosPerRequest), "µs"],
    ["split: workers draining the backlog", pick("split", (p) => p.drain?.perSec), "orders/s"],
  ];
  return rows
    .filter(([, v]) => v.length > 0)
    .map(([name, values, unit]) => ({ name, unit, median: round(median(values), 1), runs: values }));
}

export function printPaths(p: PathsPhase) {
  console.log(
    `\nHot paths one at a time: ${n(p.activity.shoppers)} shoppers on a ${n(p.activity.stock)}-unit sale (workers persisting)`,
  );
  console.log("  path                req/s  web µs/req  web CPU%  p99 ms  answers");
  for (const f of p.figures)
    console.log(
      `  ${f.path.padEnd(18)} ${n(f.requestsPerSec).padStart(6)}  ${n(f.webMicrosPerRequest).padStart(10)}  ${String(f.cost.cpu.web).padStart(8)}  ${String(f.latency.p99).padStart(6)}  ${JSON.stringify(f.answers)}${f.unexpected || f.socketErrors ? ` ✗ unexpected ${f.unexpected}, socket ${f.socketErrors}` : ""}`,
    );
  printChecks(p.checks);
}

export function printReference(r: ReferenceRun) {
  console.log(
    `\nReference server (bare node:http + ioredis, the admission Lua), ${r.connections} connections, ${r.secondsPerPath} s per route`,
  );
  for (const f of Object.values(r.figures).filter((x) => x !== undefined))
    console.log(
      `  ${f.path.padEnd(8)} ${n(f.requestsPerSec).padStart(7)} req/s · ${n(f.cpuMicrosPerRequest, 1).padStart(5)} µs of CPU per request (${f.cpuPercent}% of a core) · load generator ${n(generatorPercent(f))}% of a core · p99 ${f.latency.p99} ms · errors ${f.errors}${redisPart(f)}`,
    );
}

/** What the pass cost Redis, when measured: its CPU per request, and the script's own time per call. */
const redisPart = (f: ReferenceFigure) =>
  f.redisMicrosPerRequest === undefined
    ? ""
    : ` · Redis ${n(f.redisMicrosPerRequest, 1)} µs of CPU per request${f.scriptMicrosPerCall === undefined ? "" : ` (the script itself ${n(f.scriptMicrosPerCall, 1)} µs a call)`}`;

export function printRatios(rows: RatioRow[]) {
  if (!rows.length) return;
  console.log("\nOurs ÷ the reference of the same run (median over runs)");
  for (const r of rows) {
    const target = r.target === null ? "" : `  (target ${r.better === "higher" ? "≥" : "≤"} ${r.target})`;
    console.log(
      `  ${`${r.figure} vs ${r.reference.what}`.padEnd(92)} ${r.median.toFixed(2).padStart(6)}×   ours ${n(r.ours.median, 1)} ${r.ours.unit}, reference ${n(r.reference.median, 1)} ${r.reference.unit}${target}`,
    );
  }
}

export function printHeadline(rows: ReturnType<typeof headline>) {
  console.log(`\nHeadline (median of ${rows[0]?.runs.length ?? 0} run(s))`);
  for (const r of rows)
    console.log(
      `  ${r.name.padEnd(52)} ${n(r.median, 1).padStart(9)} ${r.unit}   runs: ${r.runs.map((x) => n(x, 1)).join(", ")}`,
    );
}
