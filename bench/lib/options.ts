import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { defaultWorkers } from "@/lib/env";
import { MAX_SEGMENTS } from "@/lib/flash/store/layout";

export type Scenario = "flash" | "soldout" | "payment" | "admit" | "split" | "paths" | "polling" | "bots";
export const SCENARIOS: Scenario[] = ["flash", "soldout", "payment", "admit", "split", "paths", "polling", "bots"];
/** Run only when named: the bot scenario (bench/lib/crowd.ts) takes its own minute. */
const ON_REQUEST: Scenario[] = ["bots"];

/** Every setting of a run; printed and written with the results so a figure can be reproduced. */
export interface BenchOptions {
  ci: boolean;
  scenarios: Scenario[];
  /** Units of the flash-crowd activity. */
  stock: number;
  /** Shoppers seeded, signed in and sent at the flash-crowd activity, each clicking "Buy" once. */
  shoppers: number;
  /** Per-user limit of the activities (the "quantity limit"). */
  limit: number;
  /** Units each click asks for. */
  quantity: number;
  /** Segments every sale's stock counter is split into in Redis (activities.stock_segments; 1: not split). */
  segments: number;
  connections: number;
  /** Upper bound of each load phase, in seconds; phases that finish their requests end earlier. */
  duration: number;
  /** Shoppers of the admission-throughput activity (stock = shoppers, so every request is admitted). */
  admitShoppers: number;
  /** Simulated waiting shoppers per polling level. */
  pollers: number[];
  pollSeconds: number;
  web: number;
  /** nginx: `web` separate instances (one process each) behind Debian nginx; none: one server with `web` processes. */
  lb: "none" | "nginx";
  /** The Redis the launcher starts: one server, or a local 3-master cluster (ignored when REDIS_URL is set). */
  redis: "single" | "cluster";
  workers: number;
  batchSize: number;
  postgres: "pglite" | "native";
  /** Shoppers signed in through the real next-auth credentials flow; the rest are minted. */
  signInSample: number;
  runs: number;
  warmup: boolean;
  port: number;
  dataDir: string;
  distDir: string;
  /** Use the build in distDir as is, without building. */
  reuseBuild: boolean;
  /** Fault injection: the hot server runs this admission script instead of lib/flash/admission.lua. */
  admissionLua?: string;
  /** Where the run's JSON goes; a name under bench/results/ by default. */
  out?: string;
  cpuProf: boolean;
  keepServices: boolean;
  waitQuiet: number;
  /**
   * The gate in front of admission: rate limits on (the load generator's own address exempt from the
   * per-address limits, since it stands for the whole crowd) and every sale requiring the human check,
   * each shopper holding a pass as if solved during the countdown. Off: RATE_LIMITS=0, no check.
   */
  gate: boolean;
  /** The bot scenario alongside the flash crowd (see bench/lib/bots.ts). */
  bots: boolean;
  /** The bots scenario: the honest crowd's arrivals per second and the length of each window. */
  crowdRate: number;
  crowdSeconds: number;
  /** The in-run reference server (bench/reference/server.ts) and the seconds it is driven per route. */
  reference: boolean;
  referenceSeconds: number;
  /** Seconds each hot path is driven alone in the paths scenario. */
  pathSeconds: number;
  /** Load generator on its own core, servers on the others (taskset). */
  pin: boolean;
  /** After the flash sale, the same sale with a pre-queue of this many of its shoppers drawn at the start (0: not run). */
  prequeue: number;
  /** After the flash sale, the same sale split evenly over this many channels (0: not run). */
  channels: number;
  /** Write the performance table into the marked block of README.md and bench/README.md. */
  report: boolean;
  /** Render the table from this results file instead of running. */
  reportFrom?: string;
  /**
   * A run whose server core changed speed by more than this share between our phases and its reference
   * passes (bench/lib/speed.ts) is run again, at most --runs times in all; null: never.
   */
  maxDrift: number | null;
}

const HELP = `npm run bench -- [options]

  --ci                   seconds, not minutes: stock 100, 2,000 shoppers; fails only on an invariant violation.
                         Reuses .next when it has a BUILD_ID (BENCH_REUSE_BUILD=1 forces, =0 forbids)
  --scenarios LIST       flash,soldout,payment,admit,split,paths,polling,bots (default: all but bots; CI: also
                         not paths). bots: an honest crowd at a fixed arrival rate, without and with the bots
                           flash    the crowd clicks once at the start of a small sale (1,000 units)
                           soldout  then the refused crowd keeps clicking (sold-out answers)
                           payment  a signed notification for every order of the run's biggest sale, 10% twice
                           admit    every click admitted (stock = shoppers), workers persisting alongside
                           split    the same with the workers paused (SIGSTOP) during the load: admission
                                    alone, then the workers alone draining the backlog
                           paths    CPU per request of each hot path alone: token, order admitted, order
                                    refused (limit), progress, ticket
                           polling  waiting shoppers polling the shared progress, at the origin and via an edge cache
  --stock N              units of the flash-crowd sale (default 1000)
  --prequeue N           after the flash sale, the same sale again with a pre-queue: its first N shoppers
                         join before the start and are drawn at it (docs/fair-entry.md); printed beside the
                         plain flash sale with the ratio of admitted orders/s (default 0: not run)
  --channels N           after the flash sale, the same sale again split evenly over N channels: web
                         (cookie), app (bearer token), partner-1… (API key on the partner route); shopper i
                         buys through channel i mod N (docs/channels.md; default 0: not run, max 8)
  --shoppers N           shoppers in the flash crowd, each clicks once (default 100000)
  --limit N              per-user limit (default 1)
  --quantity N           units per click (default 1)
  --segments N           every sale's stock counter split into N segments in Redis, each its own hash
                         tag (docs/architecture.md, "Split stock"; default 1: not split, max 16)
  --connections N        load-generator connections (default 200)
  --duration S           upper bound of each load phase in seconds (default 20)
  --admit-shoppers N     admit/split sales: stock = shoppers = N (default 50000)
  --pollers LIST         waiting shoppers per polling level (default 1000,10000,100000)
  --poll-seconds S       length of each polling level (default 5)
  --web N                web processes (WEB_CONCURRENCY, default 1); with --lb nginx, N separate instances
  --lb nginx|none        nginx (Debian, loopback) on --port in front of --web N instances of the build, each
                         one process on a port of its own, sharing Redis, PostgreSQL and Next.js's cache
                         (default none: one server, node:cluster over WEB_CONCURRENCY processes)
  --redis single|cluster the Redis the bench starts: one redis-server (default) or a local 3-master Redis
                         Cluster (data under <data-dir>/cluster); REDIS_URL, when set, wins
  --workers N            order workers (default: as npm run demo, 1 on ≤ 2 cores, else 2)
  --batch N              WORKER_BATCH_SIZE (default 200)
  --postgres KIND        pglite (default, like the demo) or native (initdb/pg_ctl)
  --sign-in N            shoppers signed in through next-auth's credentials flow (default 20)
  --runs N               repeat the sales N times and report medians (default 1)
  --no-warmup            skip the throwaway sale that warms the web process up before the measured ones
  --bots                 the bot scenario alongside the flash crowd: one account on 50 connections,
                         1,000 wrong sign-ins, 20,000 forged bearer tokens (compare with a run without)
  --crowd-rate N         bots scenario: honest clicks arriving per second (default 100)
  --crowd-seconds S      bots scenario: length of each window without / with the bots (default 8)
  --gate on|off          the gate (rate limits + human check required, passes minted for the crowd); default off
  --port N               web port (default 3300)
  --data-dir DIR         services' data (default .data/bench, with --postgres native .data/bench/native,
                         with --redis cluster …/cluster)
  --dist-dir DIR         Next build folder (default .data/bench/next)
  --reuse-build          use the build in --dist-dir as it is
  --admission-lua FILE   fault injection: run this admission script instead of lib/flash/admission.lua
  --out FILE             results JSON (default bench/results/<time>.json)
  --cpu-prof             write V8 CPU profiles of the web process(es) and the workers to <data-dir>/profiles
  --keep-services        leave PostgreSQL and Redis running for the next run
  --no-reference         skip the in-run reference server (bench/reference/server.ts); no ratios then
  --reference-seconds S  seconds the reference is driven per route (default 5, CI 1)
  --path-seconds S       seconds each hot path is driven in the paths scenario (default 5, CI 1)
  --pin                  load generator on the last core, servers on the others (taskset, util-linux); the
                         paths scenario then also admits orders with the workers and PostgreSQL moved to
                         the generator's core
  --report               after the run, write the performance table (ratios first) into the marked block
                         of README.md and bench/README.md
  --report-from FILE     write that table from a results JSON, without running
  --max-drift X|off      run a run again when the server core's speed moved by more than X (0.1 = 10 %) between
                         our phases and its reference passes; at most --runs reruns, then the run is kept and
                         marked (default 0.15 with --report and a reference, otherwise off)
  --wait-quiet S         before each sale, wait up to S seconds until other processes on the machine
                         use < 20% of a core (for shared machines; default 0: don't wait)
`;

/** --max-drift's default with --report; also where the console marks a run that moved, when no limit is set. */
export const DEFAULT_MAX_DRIFT = 0.15;

function maxDriftOf(raw: string | undefined, reporting: boolean): number | null {
  if (raw === undefined) return reporting ? DEFAULT_MAX_DRIFT : null;
  if (raw === "off") return null;
  const x = Number(raw);
  if (!(x > 0 && x < 1)) throw new OptionError(`--max-drift: expected a share between 0 and 1 (0.1 = 10 %) or off, got "${raw}"`);
  return x;
}

export function parseOptions(argv: string[], root: string, env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      ci: { type: "boolean" },
      scenarios: { type: "string" },
      stock: { type: "string" },
      shoppers: { type: "string" },
      limit: { type: "string" },
      quantity: { type: "string" },
      segments: { type: "string" },
      prequeue: { type: "string" },
      channels: { type: "string" },
      connections: { type: "string" },
      duration: { type: "string" },
      "admit-shoppers": { type: "string" },
      pollers: { type: "string" },
      "poll-seconds": { type: "string" },
      web: { type: "string" },
      lb: { type: "string" },
      redis: { type: "string" },
      workers: { type: "string" },
      batch: { type: "string" },
      postgres: { type: "string" },
      "sign-in": { type: "string" },
      runs: { type: "string" },
      "no-warmup": { type: "boolean" },
      port: { type: "string" },
      "data-dir": { type: "string" },
      "dist-dir": { type: "string" },
      "reuse-build": { type: "boolean" },
      "admission-lua": { type: "string" },
      out: { type: "string" },
      "cpu-prof": { type: "boolean" },
      "keep-services": { type: "boolean" },
      "wait-quiet": { type: "string" },
      gate: { type: "string" },
      bots: { type: "boolean" },
      "crowd-rate": { type: "string" },
      "crowd-seconds": { type: "string" },
      "no-reference": { type: "boolean" },
      "reference-seconds": { type: "string" },
      "path-seconds": { type: "string" },
      pin: { type: "boolean" },
      report: { type: "boolean" },
      "max-drift": { type: "string" },
      "report-from": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const ci = values.ci ?? false;
  const int = (name: string, raw: string | undefined, fallback: number, min = 1, max = 10_000_000) => {
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new OptionError(`--${name}: expected a whole number from ${min} to ${max}`);
    return n;
  };
  // CI leaves out the per-path measurement (≈ 10 s more on 2 cores); the short reference pass stays (≈ 3 s).
  const scenarios = (values.scenarios ?? SCENARIOS.filter((s) => !ON_REQUEST.includes(s) && (!ci || s !== "paths")).join(","))
    .split(",")
    .map((s) => s.trim()) as Scenario[];
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new OptionError(`--scenarios: unknown "${s}"`);
  if (scenarios.includes("soldout") && !scenarios.includes("flash"))
    throw new OptionError("--scenarios: soldout runs after flash");
  if (scenarios.includes("payment") && !["flash", "admit", "split"].some((x) => scenarios.includes(x as Scenario)))
    throw new OptionError("--scenarios: payment pays the orders of a flash, admit or split sale");
  const postgres = values.postgres ?? "pglite";
  if (postgres !== "pglite" && postgres !== "native") throw new OptionError(`--postgres: expected pglite or native`);
  const lb = values.lb ?? "none";
  if (lb !== "none" && lb !== "nginx") throw new OptionError("--lb: expected nginx or none");
  const redis = values.redis ?? "single";
  if (redis !== "single" && redis !== "cluster") throw new OptionError("--redis: expected single or cluster");
  const pollers = (values.pollers ?? (ci ? "200,2000" : "1000,10000,100000"))
    .split(",")
    .map((p) => int("pollers", p, 0));

  // In CI, npm test has built .next just before (scripts/test.ts, e2e step): reuse it when present,
  // unless BENCH_REUSE_BUILD=0 says it may be stale (then the bench builds its own).
  const ciReuse =
    ci && env.BENCH_REUSE_BUILD !== "0" && (env.BENCH_REUSE_BUILD === "1" || existsBuild(path.join(root, ".next")));
  const distDir = values["dist-dir"] ?? (ciReuse ? ".next" : path.join(".data", "bench", "next"));
  const opts: BenchOptions = {
    ci,
    scenarios,
    stock: int("stock", values.stock, ci ? 100 : 1000),
    shoppers: int("shoppers", values.shoppers, ci ? 2000 : 100_000),
    limit: int("limit", values.limit, 1, 1, 99),
    quantity: int("quantity", values.quantity, 1, 1, 99),
    segments: int("segments", values.segments, 1, 1, MAX_SEGMENTS),
    prequeue: int("prequeue", values.prequeue, 0, 0, 1_000_000),
    channels: int("channels", values.channels, 0, 0, 8),
    connections: int("connections", values.connections, ci ? 50 : 200, 1, 10_000),
    duration: int("duration", values.duration, ci ? 5 : 20, 1, 600),
    admitShoppers: int("admit-shoppers", values["admit-shoppers"], ci ? 1000 : 50_000),
    pollers,
    pollSeconds: int("poll-seconds", values["poll-seconds"], ci ? 2 : 5, 1, 120),
    web: int("web", values.web, 1, 1, Math.max(1, os.cpus().length * 2)),
    lb,
    redis,
    workers: int("workers", values.workers, defaultWorkers(), 0, 32),
    batchSize: int("batch", values.batch, 200, 1, 5000),
    postgres,
    signInSample: int("sign-in", values["sign-in"], ci ? 3 : 20, 1, 1000),
    runs: int("runs", values.runs, 1, 1, 20),
    warmup: !values["no-warmup"],
    port: int("port", values.port, ci ? 3390 : 3300, 1024, 65535),
    // Native PostgreSQL gets a Redis of its own too: one Redis must not hold two databases' sales; and
    // a cluster run a PostgreSQL of its own, whose sales live in that cluster only.
    dataDir: path.resolve(
      root,
      values["data-dir"] ??
        path.join(".data", "bench", ...(postgres === "native" ? ["native"] : []), ...(redis === "cluster" ? ["cluster"] : [])),
    ),
    distDir,
    reuseBuild: values["reuse-build"] ?? ciReuse,
    admissionLua: values["admission-lua"] ? path.resolve(values["admission-lua"]) : undefined,
    out: values.out,
    cpuProf: values["cpu-prof"] ?? false,
    keepServices: values["keep-services"] ?? false,
    waitQuiet: int("wait-quiet", values["wait-quiet"], 0, 0, 3600),
    gate: values.gate === "on",
    bots: values.bots ?? false,
    crowdRate: int("crowd-rate", values["crowd-rate"], 100, 1, 10_000),
    crowdSeconds: int("crowd-seconds", values["crowd-seconds"], 8, 1, 120),
    reference: !values["no-reference"],
    referenceSeconds: int("reference-seconds", values["reference-seconds"], ci ? 1 : 5, 1, 120),
    pathSeconds: int("path-seconds", values["path-seconds"], ci ? 1 : 5, 1, 120),
    pin: values.pin ?? false,
    report: values.report ?? false,
    reportFrom: values["report-from"] ? path.resolve(values["report-from"]) : undefined,
    maxDrift: maxDriftOf(values["max-drift"], Boolean(values.report) && !values["no-reference"]),
  };
  if (values.gate !== undefined && values.gate !== "on" && values.gate !== "off") throw new OptionError("--gate: expected on or off");
  if (opts.quantity > opts.limit) throw new OptionError("--quantity cannot exceed --limit");
  // nginx writes X-Forwarded-For itself (scripts/services/nginx.ts), so the bots' own addresses would not reach the gate.
  if (opts.lb === "nginx" && (opts.bots || opts.scenarios.includes("bots")))
    throw new OptionError("--lb nginx: the bot scenarios need their X-Forwarded-For addresses, which nginx replaces; run them without --lb");
  if ((opts.prequeue || opts.channels) && !opts.scenarios.includes("flash"))
    throw new OptionError("--prequeue and --channels run beside the flash scenario: include flash in --scenarios");
  if (opts.channels === 1) throw new OptionError("--channels: a split needs at least 2 channels");
  if (opts.signInSample > opts.shoppers) opts.signInSample = opts.shoppers;
  return opts;
}

function existsBuild(dir: string): boolean {
  return existsSync(path.join(dir, "BUILD_ID"));
}

export class OptionError extends Error {
  override name = "OptionError";
}
