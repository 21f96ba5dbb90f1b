// `npm run bench [-- options]`: an honest flash-crowd load test of the storefront, end to end.
// Provisions like the demo (own data under .data/bench), signs shoppers in, preheats sales, drives
// the buy path and the waiting shoppers' polling with autocannon over loopback, then reads
// PostgreSQL and Redis back and checks invariants I1–I4 (docs/architecture.md). Exits 1 on any violation.
// `--ci` is the short version `npm test` runs: it fails only on a violation, never on speed.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { db } from "@/lib/db";
import { redis as sharedRedis } from "@/lib/redis";
import { connectRedis, type RedisClient } from "@/lib/redis-connect";
import { ROOT, stopProcesses, waitForHttp } from "@/scripts/lib/procs";
import { formatStartupError } from "@/scripts/services/index";
import { createBenchActivity, retireBenchActivities } from "@/bench/lib/activity";
import { DEFAULT_MAX_DRIFT, parseOptions, OptionError, type BenchOptions } from "@/bench/lib/options";
import { runPaths, type PathsPhase } from "@/bench/lib/paths";
import { resumeWorkers, runSale, type SalePhase } from "@/bench/lib/phases";
import { botShoppersNeeded, printBotScenario, runBotScenario, type BotScenarioResult } from "@/bench/lib/crowd";
import { runPaymentPhase, type PaymentPhase } from "@/bench/lib/payments";
import { pinGenerator, type Pinning } from "@/bench/lib/pin";
import { movedBeyond, probeSpeed, speedDrift, type SpeedSample } from "@/bench/lib/speed";
import { pollLevel, type PollLevel } from "@/bench/lib/polling";
import {
  CostMeter,
  machineInfo,
  redisServerPids,
  waitForQuiet,
  type OriginCost,
  type Pids,
  type ProcessSet,
} from "@/bench/lib/probes";
import {
  REFERENCE_PATHS,
  runReference,
  startReference,
  type Reference,
  type ReferencePath,
  type ReferenceRun,
} from "@/bench/lib/reference";
import {
  headline,
  printChecks,
  printHeadline,
  printPaths,
  printPolling,
  printRatios,
  printReference,
  printSale,
} from "@/bench/lib/report";
import { loadShoppers, mintSessions, signInThroughNextAuth, type Shopper } from "@/bench/lib/sessions";
import { PassKeys } from "@/lib/captcha/pass";
import { freePort, startStack, type Stack } from "@/bench/lib/stack";
import { ratios, renderReport, webLayout, writeReport, type BenchResult } from "@/bench/lib/table";

const log = (line: string) => console.log(`[bench] ${line}`);
/** The READMEs whose bench:begin/bench:end block `--report` rewrites. */
const README_FILES = [path.join(ROOT, "README.md"), path.join(ROOT, "bench", "README.md")];
const started = Date.now();

// `--durability everysec,always,replica`: the durability modes' cost side by side (bench/durability/run.ts), on its own.
if (process.argv.some((a) => a === "--durability" || a.startsWith("--durability="))) await import("@/bench/durability/run");

let o: BenchOptions;
try {
  o = parseOptions(process.argv.slice(2), ROOT);
} catch (e) {
  console.error(e instanceof OptionError ? e.message : String(e));
  process.exit(2);
}

if (o.reportFrom) {
  // Renders the table of an earlier run without running anything.
  const table = renderReport(JSON.parse(readFileSync(o.reportFrom, "utf8")) as BenchResult);
  const files = writeReport(table, README_FILES);
  console.log(table);
  console.log(
    `\n${files.length ? `written into ${files.map((f) => path.relative(ROOT, f)).join(", ")}` : "no README has the bench:begin/bench:end markers"}`,
  );
  process.exit(0);
}

let stack: Stack | undefined;
let edge: ChildProcess | undefined;
let edgeUrl: string | undefined;
let reference: Reference | undefined;
let pinning: Pinning | undefined;
let redis: RedisClient | undefined;
let interrupted = false;
async function cleanUp() {
  resumeWorkers();
  if (edge) await stopProcesses([edge]);
  await reference?.stop().catch((e: unknown) => log(`reference: ${String(e)}`));
  redis?.disconnect();
  if (stack) {
    // lib/'s clients (preheat, invariants) would otherwise reconnect to services that are going away.
    sharedRedis().disconnect();
    await db().$disconnect();
  }
  await stack?.stop();
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  exitCode = await main(o);
} catch (e) {
  console.error(
    `[bench] failed: ${e instanceof Error ? (e.name === "StartupError" ? formatStartupError(e) : (e.stack ?? e.message)) : String(e)}`,
  );
  exitCode = 2;
} finally {
  await cleanUp();
}
process.exit(exitCode);

/** How many shoppers the paths phase uses: --shoppers, at most 40,000 (1,000 in CI): two passes of admitted orders when pinned. */
function pathShoppers(o: BenchOptions): number {
  return Math.min(o.shoppers, o.ci ? 1000 : 40_000);
}

async function main(o: BenchOptions): Promise<number> {
  const sized = o.scenarios.includes("admit") || o.scenarios.includes("split") ? o.admitShoppers : 0;
  const botCrowd = o.scenarios.includes("bots") ? botShoppersNeeded(o.crowdRate, o.crowdSeconds) : 0;
  // The paths phase alone (--scenarios paths) still needs its crowd: without it, it would measure the sign-in sample.
  const paths = o.scenarios.includes("paths") ? pathShoppers(o) : 0;
  const seedShoppers = Math.max(o.scenarios.includes("flash") ? o.shoppers : 0, sized, paths, o.signInSample + botCrowd, 2);
  log(`${o.ci ? "CI mode" : "full run"}: ${JSON.stringify({ ...o, dataDir: path.relative(ROOT, o.dataDir) })}`);
  stack = await startStack(o, seedShoppers);
  redis = connectRedis(stack.redisUrl, { connectionName: "bench", maxRetriesPerRequest: 2 });
  const procs: ProcessSet = {
    web: stack.webs.map((w) => w.pid),
    workers: stack.workers.map((w) => w.pid),
    database: stack.databasePid,
  };
  const machine = { ...(await machineInfo(redis)), postgres: await postgresVersion() };
  // INFO's process_id is a local pid only when Redis runs here (REDIS_URL may point elsewhere).
  const redisPid = (await redisServerPids(redis)).filter(
    (pid) => existsSync(`/proc/${pid}/comm`) && readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("redis"),
  );
  let pinned = "on the same cores as the servers (no --pin)";
  if (o.pin) {
    const p = pinGenerator(log);
    if (typeof p === "string") {
      log(`--pin: ${p}`);
      pinned = p;
    } else {
      pinning = p;
      pinning.servers(...stack.webs.map((w) => w.pid), stack.balancer?.process.pid, ...procs.workers, procs.database, ...redisPid);
      pinned = `pinned to core ${p.generatorCores}, servers on ${p.serverCores} (taskset)`;
    }
  }
  // The reference server starts (a few seconds of tsx) while shoppers sign in and the warm-up runs.
  if (o.reference) reference = startReference(redis, stack.redisUrl, await freePort(o.port + 10));
  const referenceReady = reference?.ready.then(
    () => pinning?.servers(reference?.child.pid),
    async (e: unknown) => {
      // Not an invariant: without the reference the run goes on, only without ratios.
      log(`reference server did not start, no ratios this run: ${e instanceof Error ? e.message : String(e)}`);
      await reference?.stop();
      reference = undefined;
    },
  );
  const retired = await retireBenchActivities();
  if (retired) log(`ended ${retired} sale(s) left over by earlier bench runs`);

  const users = await loadShoppers(seedShoppers);
  const t0 = Date.now();
  const signedIn = await signInThroughNextAuth(stack.baseUrl, users.slice(0, o.signInSample));
  log(
    `${signedIn.length} shoppers signed in through next-auth (csrf → credentials callback → session) in ${Date.now() - t0} ms`,
  );

  const common = {
    baseUrl: stack.baseUrl,
    redis,
    procs,
    shoppers: [] as Shopper[],
    quantity: o.quantity,
    connections: o.connections,
    maxSeconds: o.duration,
    watchers: o.ci ? 200 : 1000,
    batchSize: o.batchSize,
    workers: o.workers,
    log,
    beforeSale: o.waitQuiet > 0 ? () => quiet(o, procs, redisPid) : undefined,
    bots: o.bots,
    gate: o.gate ? new PassKeys(stack.env.FLASH_TOKEN_SECRET!, 3600) : undefined,
    segments: o.segments,
  };
  const warmups: SalePhase[] = [];
  if (o.warmup) {
    // A server in a real sale has been up for a while (pages, the countdown's polling): a throwaway sale
    // warms up its JIT and connections first, with cookies of its own so the measured crowd's stay cold.
    const size = Math.min(seedShoppers, o.ci ? 500 : 5000);
    common.shoppers = await mintSessions(users.slice(0, size), stack.env.NEXTAUTH_SECRET!);
    const w = await runSale(common, "warmup", {
      stock: Math.max(1, Math.floor(size / 10)),
      limit: o.limit,
      buyers: size,
      soldOutSeconds: 2,
    });
    log(
      `warm-up: ${size} clicks at ${w.buy.requestsPerSec} req/s; invariants ${w.checks.every((c) => c.ok) ? "held" : "VIOLATED"}`,
    );
    warmups.push(w);
    await retireBenchActivities([w.activity.id]);
  }

  await referenceReady;
  const runs: SalePhase[][] = [];
  const payments: PaymentPhase[] = [];
  const pathRuns: PathsPhase[] = [];
  const referenceRuns: ReferenceRun[] = [];
  const speeds: SpeedSample[] = [];
  // Runs taken again because the core's speed moved between the two sides of their ratios (--max-drift).
  // Their ratios are left out; their invariant checks still count.
  const reruns: { run: number; drift: number }[] = [];
  const droppedRuns: SalePhase[][] = [];
  const droppedPaths: PathsPhase[] = [];
  for (let run = 1, kept = 0; kept < o.runs; run++) {
    const mark = { runs: runs.length, paths: pathRuns.length, reference: referenceRuns.length };
    // Fresh cookies every run, so the server's session cache starts cold as it would for a new crowd.
    const t1 = Date.now();
    const minted = await mintSessions(users.slice(o.signInSample), stack.env.NEXTAUTH_SECRET!);
    common.shoppers = [...signedIn, ...minted];
    log(
      `run ${run}${run > o.runs || reruns.length ? ` (for ${kept + 1} of ${o.runs})` : `/${o.runs}`}: minted ${minted.length} session cookies with next-auth's encode() in ${Date.now() - t1} ms`,
    );
    const phases: SalePhase[] = [];
    const readSpeed = async (before: string, side: SpeedSample["side"]) => {
      try {
        speeds.push({ run, before, side, nsPerOp: await probeSpeed(pinning) });
      } catch (e) {
        log(`speed probe before ${before} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    // The reference is driven next to the figures it divides, so a change of the machine's other load
    // between them moves the ratio less: hello and sold-out after the flash sale, the Lua after the rest.
    const refFigures: ReferenceRun["figures"] = {};
    let crowdCookies = true;
    const referencePass = async (routes: ReferencePath[]) => {
      if (!reference || !routes.length) return;
      if (o.waitQuiet > 0) await quiet(o, procs, redisPid);
      await readSpeed(`reference: ${routes.join(", ")}`, "reference");
      log(`reference: ${routes.join(", ")}, ${o.referenceSeconds} s each`);
      const r = await runReference(reference, {
        connections: o.connections,
        seconds: o.referenceSeconds,
        routes,
        cookies: common.shoppers.map((s) => s.cookie),
        redis,
      });
      printReference(r);
      Object.assign(refFigures, r.figures);
      crowdCookies &&= r.crowdCookies === true;
    };
    const sale = async (kind: "flash" | "admit" | "split" | "prequeue" | "channels", s: Parameters<typeof runSale>[2]) => {
      await readSpeed(kind, "ours");
      const p = await runSale(common, kind, s);
      if (p.soldOut && s.soldOutSeconds) {
        // What the same crowd costs when it learns "sold out" from the shared progress at an edge
        // (the buy panel disables its button on `soldOut`) instead of posting to the origin.
        log(`${kind}: the refused crowd reads the shared progress through the edge cache for ${s.soldOutSeconds} s`);
        const e = await ensureEdge(stack!.baseUrl, o.port + 1);
        p.soldOutEdge = await pollLevel({
          url: `${e.url}/api/activities/${p.activity.id}/progress`,
          pollers: Math.max(1, s.buyers - s.stock),
          seconds: s.soldOutSeconds,
          via: "edge",
          redis: redis!,
          procs,
          edge: { statsUrl: `${e.url}/__edge/stats`, pid: e.pid },
          closedLoop: { connections: o.connections },
        });
      }
      printSale(p);
      phases.push(p);
      if (kind === "flash") await referencePass(["hello", "soldout"]);
    };
    if (o.scenarios.includes("flash")) {
      const soldOutSeconds = o.scenarios.includes("soldout") ? Math.min(o.duration, o.ci ? 2 : 10) : undefined;
      await sale("flash", { stock: o.stock, limit: o.limit, buyers: o.shoppers, soldOutSeconds });
      // The same sale with a pre-queue draw, and split into channels, side by side with the plain one.
      if (o.prequeue) await sale("prequeue", { stock: o.stock, limit: o.limit, buyers: o.shoppers, prequeue: o.prequeue });
      if (o.channels) await sale("channels", { stock: o.stock, limit: o.limit, buyers: o.shoppers, channels: o.channels });
      const plain = phases.find((p) => p.kind === "flash");
      for (const p of phases.filter((x) => x.kind === "prequeue" || x.kind === "channels")) {
        const ratio = plain && plain.buy.requestsPerSec > 0 ? p.buy.requestsPerSec / plain.buy.requestsPerSec : NaN;
        log(
          `${p.kind} vs plain flash: buy path ${p.buy.requestsPerSec} vs ${plain?.buy.requestsPerSec} req/s (${ratio.toFixed(2)}x; target ≥ 0.90x), ` +
            `admitted ${p.buy.orders.admitted} vs ${plain?.buy.orders.admitted}; invariants ${p.checks.every((c) => c.ok) ? "held" : "VIOLATED"}`,
        );
      }
    }
    for (const kind of ["admit", "split"] as const) {
      if (o.scenarios.includes(kind))
        await sale(kind, { stock: o.admitShoppers * o.quantity, limit: o.limit, buyers: o.admitShoppers });
    }
    if (o.scenarios.includes("payment")) {
      // The biggest sale of the run gives the most orders to pay (admit: every click is an order).
      const paid = [...phases].sort((x, y) => y.activity.stock - x.activity.stock)[0]!;
      payments.push(
        await runPaymentPhase({
          baseUrl: stack!.baseUrl,
          activity: paid.activity,
          env: stack!.env as { NEXTAUTH_SECRET: string },
          connections: o.connections,
          duplicateShare: 0.1,
          log,
        }),
      );
    }
    runs.push(phases);
    await retireBenchActivities(phases.map((p) => p.activity.id));
    if (o.scenarios.includes("paths")) {
      if (o.waitQuiet > 0) await quiet(o, procs, redisPid);
      await readSpeed("paths", "ours");
      const pin = pinning;
      const p = await runPaths({
        baseUrl: stack.baseUrl,
        redis,
        procs,
        shoppers: common.shoppers.slice(0, pathShoppers(o)),
        connections: o.connections,
        seconds: o.pathSeconds,
        log,
        // Pinned: admitted orders once more with the persistence tier on the generator's core (the only
        // other core on a 2-core box), where a deployment's workers and database have cores of their own.
        apart: pin && {
          move: () => pin.beside(...procs.workers, procs.database),
          back: () => pin.servers(...procs.workers, procs.database),
        },
      });
      printPaths(p);
      pathRuns.push(p);
      await retireBenchActivities([p.activity.id]);
    }
    await referencePass(REFERENCE_PATHS.filter((route) => !refFigures[route]));
    if (reference)
      referenceRuns.push({ connections: o.connections, secondsPerPath: o.referenceSeconds, crowdCookies, figures: refFigures });
    const drift = speedDrift(speeds.filter((x) => x.run === run))[0]?.ratio;
    if (o.maxDrift !== null && drift !== undefined && movedBeyond(drift, o.maxDrift) && reruns.length < o.runs) {
      reruns.push({ run, drift });
      droppedRuns.push(...runs.splice(mark.runs));
      droppedPaths.push(...pathRuns.splice(mark.paths));
      referenceRuns.splice(mark.reference);
      log(
        `run ${run}: the server core's speed moved ${drift.toFixed(2)}× between our phases and the reference passes (beyond ±${o.maxDrift}); its ratios are left out and the run is taken again (rerun ${reruns.length} of at most ${o.runs})`,
      );
      continue;
    }
    kept++;
  }

  let botScenario: BotScenarioResult | undefined;
  if (botCrowd) {
    if (o.waitQuiet > 0) await quiet(o, procs, redisPid);
    const crowd = await mintSessions(users.slice(o.signInSample, o.signInSample + botCrowd), stack.env.NEXTAUTH_SECRET!);
    botScenario = await runBotScenario({
      baseUrl: stack.baseUrl,
      shoppers: crowd,
      gate: common.gate,
      webPid: stack.webs[0]?.pid,
      rate: o.crowdRate,
      seconds: o.crowdSeconds,
      log,
    });
    printBotScenario(botScenario, log);
    await retireBenchActivities([botScenario.activityId]);
  }

  let polling: { idle: OriginCost | null; levels: PollLevel[] } | undefined;
  if (o.scenarios.includes("polling")) {
    if (o.waitQuiet > 0) await quiet(o, procs, redisPid);
    polling = await runPolling(o, stack, redis, procs);
  }

  const rows = headline(runs);
  if (rows.length) printHeadline(rows);
  const ratioRows = ratios(runs, pathRuns, referenceRuns);
  printRatios(ratioRows);
  const drift = speedDrift(speeds);
  if (drift.length)
    console.log(
      `\nServer core speed (bench/speed-probe.mjs, CPU ns per op before each phase; lower is faster), our phases ÷ the reference passes:\n` +
        drift.map((d) => `  run ${d.run}: ${d.ours} ÷ ${d.reference} ns = ${d.ratio.toFixed(2)}${reruns.some((x) => x.run === d.run) ? "  ← taken again: its ratios are left out" : movedBeyond(d.ratio, o.maxDrift ?? DEFAULT_MAX_DRIFT) ? "  ← the core's speed moved between the two sides of this run's ratios" : ""}`).join("\n"),
    );
  const checks = [
    ...[...warmups, ...runs.flat(), ...droppedRuns.flat()].flatMap((p) =>
      p.checks.map((c) => ({ ...c, phase: p.kind as string, activity: p.activity.id })),
    ),
    ...[...pathRuns, ...droppedPaths].flatMap((p) => p.checks.map((c) => ({ ...c, phase: "paths", activity: p.activity.id }))),
    ...payments.flatMap((p) => p.checks.map((c) => ({ ...c, phase: "payment", activity: "" }))),
  ];
  const violations = checks.filter((c) => !c.ok);

  const result = {
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    mode: o.ci ? "ci" : "full",
    settings: { ...o, dataDir: path.relative(ROOT, o.dataDir), workerBatchSize: o.batchSize },
    machine,
    database: stack.database,
    sessions: { signedInThroughNextAuth: signedIn.length, mintedWithNextAuthEncode: seedShoppers - signedIn.length },
    captcha: "not enabled",
    headline: rows,
    warmup: warmups[0] ?? null,
    pinned,
    runs,
    payments,
    paths: pathRuns,
    reference: referenceRuns,
    ratios: ratioRows,
    speed: speeds,
    reruns,
    polling,
    bots: botScenario,
    violations,
  } satisfies BenchResult & Record<string, unknown>;
  const out =
    o.out ??
    path.join(
      ROOT,
      "bench",
      "results",
      `${new Date(started).toISOString().replace(/[:.]/g, "-")}-${o.ci ? "ci" : "full"}.json`,
    );
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2));

  console.log(
    `\nMachine: ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Redis ${machine.redis}, ${machine.postgres}; load average at start ${machine.loadAverageAtStart.join(" ")}`,
  );
  console.log(
    `Database: ${stack.database}. ${webLayout(o)}, workers: ${o.workers} (batch ${o.batchSize}). Load generator: autocannon on the same machine, loopback.`,
  );
  console.log(
    `Sessions: ${signedIn.length} signed in through next-auth's credentials flow, ${seedShoppers - signedIn.length} minted with next-auth's encode(). Captcha: not enabled.`,
  );
  console.log(`Results: ${path.relative(ROOT, out)} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  if (o.report) {
    const table = renderReport(result);
    const files = writeReport(table, README_FILES);
    console.log(`\n${table}\n`);
    log(
      files.length
        ? `table written into ${files.map((f) => path.relative(ROOT, f)).join(", ")}`
        : "no README has the bench:begin/bench:end markers; paste the table above",
    );
  }
  if (violations.length) {
    console.error(`\n✗ ${violations.length} invariant violation(s):`);
    printChecks(violations);
    console.error("✗ exit 1: invariants violated");
    return 1;
  }
  console.log(`✓ invariants held: ${checks.length} checks of I1–I4 (and the I5 read check)`);
  return 0;
}

async function runPolling(o: BenchOptions, stack: Stack, r: RedisClient, procs: ProcessSet) {
  // A live sale of its own: what the pollers read does not matter, only that it is shared.
  const activityId = (await createBenchActivity("poll", { stock: 1000, limit: 1, leadMs: 0 })).id;
  const path_ = `/api/activities/${activityId}/progress`;
  await new Promise((res) => setTimeout(res, 1000));
  const idleMeter = new CostMeter(r, procs);
  await idleMeter.start();
  await new Promise((res) => setTimeout(res, 2000));
  const idle = await idleMeter.stop();

  const e = await ensureEdge(stack.baseUrl, o.port + 1);
  const levels: PollLevel[] = [];
  for (const pollers of o.pollers) {
    for (const via of ["origin", "edge"] as const) {
      const base = via === "origin" ? stack.baseUrl : e.url;
      log(`polling: ${pollers} waiting shoppers via ${via} for ${o.pollSeconds} s`);
      levels.push(
        await pollLevel({
          url: `${base}${path_}`,
          pollers,
          seconds: o.pollSeconds,
          via,
          redis: r,
          procs,
          ...(via === "edge" ? { edge: { statsUrl: `${e.url}/__edge/stats`, pid: e.pid } } : {}),
        }),
      );
    }
  }
  printPolling(idle, levels);
  await retireBenchActivities([activityId]);
  return { idle, levels };
}

/** The edge cache in front of the origin (bench/edge-cache.ts), started once when first needed. */
async function ensureEdge(origin: string, port: number): Promise<{ url: string; pid?: number }> {
  if (!edge || !edgeUrl) {
    edge = spawn(
      process.execPath,
      ["--import", "tsx", "bench/edge-cache.ts", "--origin", origin, "--port", String(port)],
      {
        cwd: ROOT,
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    edgeUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${edgeUrl}/__edge/stats`, 30_000, edge);
    pinning?.servers(edge.pid);
  }
  return { url: edgeUrl, pid: edge.pid };
}

async function quiet(o: BenchOptions, procs: ProcessSet, redisPid: Pids) {
  const other = await waitForQuiet(procs, redisPid, o.waitQuiet);
  log(
    `other processes on the machine: ${other}% of a core${other >= 20 ? " (still busy after waiting; figures are disturbed)" : ""}`,
  );
}

async function postgresVersion(): Promise<string> {
  const rows = await db().$queryRaw<{ version: string }[]>`SELECT version()`;
  return (rows[0]?.version ?? "PostgreSQL ?").split(" on ")[0]!;
}
