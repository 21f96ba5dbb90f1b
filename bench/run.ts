// `npm run bench [-- options]`: an honest flash-crowd load test of the storefront, end to end.
// Provisions like the demo (own data under .data/bench), signs shoppers in, preheats sales, drives
// the buy path and the waiting shoppers' polling with autocannon over loopback, then reads
// PostgreSQL and Redis back and checks invariants I1–I4 (docs/architecture.md). Exits 1 on any violation.
// `--ci` is the short version `npm test` runs: it fails only on a violation, never on speed.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { db } from "@/lib/db";
import { redis as sharedRedis } from "@/lib/redis";
import { ROOT, stopProcesses, waitForHttp } from "@/scripts/lib/procs";
import { formatStartupError } from "@/scripts/services/index";
import { createBenchActivity, retireBenchActivities } from "@/bench/lib/activity";
import { parseOptions, OptionError, type BenchOptions } from "@/bench/lib/options";
import { resumeWorkers, runSale, type SalePhase } from "@/bench/lib/phases";
import { runPaymentPhase, type PaymentPhase } from "@/bench/lib/payments";
import { pollLevel, type PollLevel } from "@/bench/lib/polling";
import { CostMeter, machineInfo, waitForQuiet, type OriginCost, type ProcessSet } from "@/bench/lib/probes";
import { headline, printChecks, printHeadline, printPolling, printSale } from "@/bench/lib/report";
import { loadShoppers, mintSessions, signInThroughNextAuth, type Shopper } from "@/bench/lib/sessions";
import { startStack, type Stack } from "@/bench/lib/stack";

const log = (line: string) => console.log(`[bench] ${line}`);
const started = Date.now();

let o: BenchOptions;
try {
  o = parseOptions(process.argv.slice(2), ROOT);
} catch (e) {
  console.error(e instanceof OptionError ? e.message : String(e));
  process.exit(2);
}

let stack: Stack | undefined;
let edge: ChildProcess | undefined;
let redis: Redis | undefined;
let interrupted = false;
async function cleanUp() {
  resumeWorkers();
  if (edge) await stopProcesses([edge]);
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

async function main(o: BenchOptions): Promise<number> {
  const sized = o.scenarios.includes("admit") || o.scenarios.includes("split") ? o.admitShoppers : 0;
  const seedShoppers = Math.max(o.scenarios.includes("flash") ? o.shoppers : 0, sized, o.signInSample, 2);
  log(`${o.ci ? "CI mode" : "full run"}: ${JSON.stringify({ ...o, dataDir: path.relative(ROOT, o.dataDir) })}`);
  stack = await startStack(o, seedShoppers);
  redis = new Redis(stack.redisUrl, { connectionName: "bench", maxRetriesPerRequest: 2 });
  const procs: ProcessSet = {
    web: stack.web.pid,
    workers: stack.workers.map((w) => w.pid),
    database: stack.databasePid,
  };
  const machine = { ...(await machineInfo(redis)), postgres: await postgresVersion() };
  const redisPid = Number(/^process_id:(\d+)/m.exec(await redis.info("server"))?.[1]) || undefined;
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

  const runs: SalePhase[][] = [];
  const payments: PaymentPhase[] = [];
  for (let run = 1; run <= o.runs; run++) {
    // Fresh cookies every run, so the server's session cache starts cold as it would for a new crowd.
    const t1 = Date.now();
    const minted = await mintSessions(users.slice(o.signInSample), stack.env.NEXTAUTH_SECRET!);
    common.shoppers = [...signedIn, ...minted];
    log(
      `run ${run}/${o.runs}: minted ${minted.length} session cookies with next-auth's encode() in ${Date.now() - t1} ms`,
    );
    const phases: SalePhase[] = [];
    const sale = async (kind: "flash" | "admit" | "split", s: Parameters<typeof runSale>[2]) => {
      const p = await runSale(common, kind, s);
      printSale(p);
      phases.push(p);
    };
    if (o.scenarios.includes("flash")) {
      const soldOutSeconds = o.scenarios.includes("soldout") ? Math.min(o.duration, o.ci ? 2 : 10) : undefined;
      await sale("flash", { stock: o.stock, limit: o.limit, buyers: o.shoppers, soldOutSeconds });
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
  }

  let polling: { idle: OriginCost | null; levels: PollLevel[] } | undefined;
  if (o.scenarios.includes("polling")) {
    if (o.waitQuiet > 0) await quiet(o, procs, redisPid);
    polling = await runPolling(o, stack, redis, procs);
  }

  const rows = headline(runs);
  if (rows.length) printHeadline(rows);
  const checks = [
    ...[...warmups, ...runs.flat()].flatMap((p) => p.checks.map((c) => ({ ...c, phase: p.kind, activity: p.activity.id }))),
    ...payments.flatMap((p) => p.checks.map((c) => ({ ...c, phase: "payment", activity: "" }))),
  ];
  const violations = checks.filter((c) => !c.ok);

  const result = {
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    mode: o.ci ? "ci" : "full",
    settings: { ...o, dataDir: path.relative(ROOT, o.dataDir), workerBatchSize: o.batchSize },
    machine,
    database: stack.database,
    sessions: { signedInThroughNextAuth: signedIn.length, mintedWithNextAuthEncode: seedShoppers - signedIn.length },
    captcha: "not enabled",
    headline: rows,
    warmup: warmups[0] ?? null,
    runs,
    payments,
    polling,
    violations,
  };
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
    `Database: ${stack.database}. Web processes: ${o.web}, workers: ${o.workers} (batch ${o.batchSize}). Load generator: autocannon on the same machine, loopback.`,
  );
  console.log(
    `Sessions: ${signedIn.length} signed in through next-auth's credentials flow, ${seedShoppers - signedIn.length} minted with next-auth's encode(). Captcha: not enabled.`,
  );
  console.log(`Results: ${path.relative(ROOT, out)} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  if (violations.length) {
    console.error(`\n✗ ${violations.length} invariant violation(s):`);
    printChecks(violations);
    console.error("✗ exit 1: invariants violated");
    return 1;
  }
  console.log(`✓ invariants held: ${checks.length} checks of I1–I4 (and the I5 read check)`);
  return 0;
}

async function runPolling(o: BenchOptions, stack: Stack, r: Redis, procs: ProcessSet) {
  // A live sale of its own: what the pollers read does not matter, only that it is shared.
  const activityId = (await createBenchActivity("poll", { stock: 1000, limit: 1, leadMs: 0 })).id;
  const path_ = `/api/activities/${activityId}/progress`;
  await new Promise((res) => setTimeout(res, 1000));
  const idleMeter = new CostMeter(r, procs);
  await idleMeter.start();
  await new Promise((res) => setTimeout(res, 2000));
  const idle = await idleMeter.stop();

  const edgePort = o.port + 1;
  edge = spawn(
    process.execPath,
    ["--import", "tsx", "bench/edge-cache.ts", "--origin", stack.baseUrl, "--port", String(edgePort)],
    {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  await waitForHttp(`http://127.0.0.1:${edgePort}/__edge/stats`, 30_000, edge);
  const levels: PollLevel[] = [];
  for (const pollers of o.pollers) {
    for (const via of ["origin", "edge"] as const) {
      const base = via === "origin" ? stack.baseUrl : `http://127.0.0.1:${edgePort}`;
      log(`polling: ${pollers} waiting shoppers via ${via} for ${o.pollSeconds} s`);
      levels.push(
        await pollLevel({
          url: `${base}${path_}`,
          pollers,
          seconds: o.pollSeconds,
          via,
          redis: r,
          procs,
          ...(via === "edge" ? { edge: { statsUrl: `http://127.0.0.1:${edgePort}/__edge/stats`, pid: edge.pid } } : {}),
        }),
      );
    }
  }
  printPolling(idle, levels);
  await retireBenchActivities([activityId]);
  return { idle, levels };
}

async function quiet(o: BenchOptions, procs: ProcessSet, redisPid: number | undefined) {
  const other = await waitForQuiet(procs, redisPid, o.waitQuiet);
  log(
    `other processes on the machine: ${other}% of a core${other >= 20 ? " (still busy after waiting; figures are disturbed)" : ""}`,
  );
}

async function postgresVersion(): Promise<string> {
  const rows = await db().$queryRaw<{ version: string }[]>`SELECT version()`;
  return (rows[0]?.version ?? "PostgreSQL ?").split(" on ")[0]!;
}
