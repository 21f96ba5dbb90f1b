// `npm run chaos [-- options]`: the fault suite. A crowd buys while one fault at a time hits the stack
// (kill -9 of a worker, all workers, the web process, PostgreSQL, Redis; Redis back empty or rewound;
// end / cancel / pause / restock under load). After each, what died is started again as an operator
// would, the queue drains, and the suite checks I1–I4 and that every 202 the crowd saw reached a
// final answer. Loopback only; bounded in shoppers and time. Exits 1 on any failed check.
//   --postgres pglite,native   database(s) to run on (each in its own process; default both)
//   --scenarios a,b            a subset (names: see bench/chaos/scenarios.ts)
//   --ci                       the part `npm test` runs: fewer shoppers, CI_SCENARIOS, PGlite
//   --shoppers N --out FILE --dist-dir DIR
//   --port N                   web port (default TEST_PORT or 3203); PostgreSQL and Redis ask for the next free pair
//   --report                   also write the table into README.md and docs/chaos.md
//   --report-from A.json,B.json  only write that table from earlier results (e.g. one file per database)
// Every wait is bounded: one that runs out fails its scenario with "timed out after N s waiting for <what>".
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ChaosApps } from "@/bench/chaos/apps";
import { chaosChecks } from "@/bench/chaos/checks";
import { finalAnswers, replayClicks, runCrowd } from "@/bench/chaos/crowd";
import { CI_SCENARIOS, SCENARIOS, type FaultContext, type Scenario } from "@/bench/chaos/scenarios";
import { mergeResults, renderTable, writeBlocks, type ChaosResult, type ScenarioRun } from "@/bench/chaos/report";
import { ChaosServices, type PgMode } from "@/bench/chaos/services";
import { ChaosTimeout, within } from "@/bench/chaos/within";
import { createBenchActivity } from "@/bench/lib/activity";
import { loadShoppers, mintSessions, type Shopper } from "@/bench/lib/sessions";
import { ensureBuild, freePort } from "@/bench/lib/stack";
import { ROOT, run, tsxArgs } from "@/scripts/lib/procs";
import { ensureLocalSecrets } from "@/scripts/lib/secrets";

const { values } = parseArgs({
  options: {
    postgres: { type: "string", default: "pglite,native" },
    scenarios: { type: "string" },
    ci: { type: "boolean", default: false },
    shoppers: { type: "string" },
    out: { type: "string" },
    port: { type: "string", default: process.env.TEST_PORT ?? "3203" },
    "dist-dir": { type: "string", default: ".data/chaos/next" },
    /** Write the table into the chaos:begin/chaos:end blocks of README.md and docs/chaos.md. */
    report: { type: "boolean", default: false },
    "report-from": { type: "string" },
  },
});

if (values["report-from"]) {
  // The table of earlier runs (one JSON per database, say), written without running anything.
  const files = values["report-from"].split(",").map((f) => path.resolve(f));
  const parts = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as ChaosResult);
  const merged = mergeResults(parts);
  console.log(renderTable(merged));
  const written = writeBlocks(merged, files.map((f) => path.relative(ROOT, f)));
  console.log(`\nwritten into ${written.map((f) => path.relative(ROOT, f)).join(", ") || "no file (chaos:begin/chaos:end markers missing)"}`);
  process.exit(0);
}
const ci = values.ci;
const modes = values.postgres.split(",") as PgMode[];
const names = values.scenarios?.split(",") ?? (ci ? CI_SCENARIOS : SCENARIOS.map((s) => s.name));
const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length || modes.some((m) => m !== "pglite" && m !== "native")) {
  console.error(`unknown scenario or database: ${[...unknown, ...modes].join(", ")}; scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  process.exit(2);
}
const shopperCount = Number(values.shoppers ?? (ci ? 300 : 600));
const log = (line: string) => console.log(`[chaos] ${line}`);

/** Bounds of the suite's waits (ms). Generous: a shared, loaded machine is slow, never stuck. */
const LIMIT = {
  setup: 20 * 60_000, // services, migrations, seed, a first Next.js build, the web process's start
  sale: 60_000, // a scenario's sale created and preheated
  crowd: 90_000, // the crowd's own deadline; its in-flight calls give up after 15 s more
  fault: 120_000,
  restart: 330_000, // a Next.js start has taken over two minutes on the loaded machine
  replay: 180_000,
  drain: ci ? 45_000 : 60_000,
  answers: 30_000,
  checks: 60_000,
  stop: 60_000,
};
/** One scenario as a whole, on top of the bounds of its steps. */
const SCENARIO_LIMIT = 15 * 60_000;

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const outFile = values.out ?? path.join(ROOT, "bench", "results", `chaos-${ci ? "ci-" : ""}${stamp}.json`);
const startedAt = new Date().toISOString();

let runs: ScenarioRun[];
if (modes.length > 1) {
  // One process per database: the lib's PostgreSQL client is a process-wide singleton.
  runs = [];
  for (const mode of modes) {
    const part = path.join(os.tmpdir(), `chaos-${process.pid}-${mode}.json`);
    const argv = process.argv.slice(2).filter((a, i, all) => a !== "--postgres" && all[i - 1] !== "--postgres" && !a.startsWith("--postgres=") && a !== "--out" && all[i - 1] !== "--out");
    const [cmd, args] = tsxArgs("bench/chaos/run.ts", [...argv, "--postgres", mode, "--out", part]);
    // Its own bounds end it first; this one is the last word (SIGINT: it still stops its services).
    const budget = LIMIT.setup + names.length * SCENARIO_LIMIT + LIMIT.stop;
    const child = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, CHAOS_PART: "1" }, timeout: budget, killSignal: "SIGINT" });
    if (existsSync(part)) {
      runs.push(...(JSON.parse(readFileSync(part, "utf8")) as ChaosResult).runs);
      rmSync(part);
    } else {
      const why = child.error ? `timed out after ${budget / 60_000} min waiting for the suite's process on ${mode}` : "the suite's process for this database wrote no results";
      console.error(`[chaos] ${mode}: ${why}`);
      runs.push(...names.map((n) => crashed(n, mode, why)));
    }
  }
} else {
  runs = await runMode(modes[0]!);
}

const result: ChaosResult = {
  startedAt,
  finishedAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "", node: process.version },
  options: { shoppers: shopperCount, ci, scenarios: names, postgres: modes },
  runs,
};
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(result, null, 2));
// A part run for one database leaves the table to the process that started it.
if (!process.env.CHAOS_PART) {
  console.log(`\n${renderTable(result)}`);
  for (const r of runs.filter((x) => x.failed.length || x.error)) {
    console.log(`\n✗ ${r.scenario} on ${r.postgres}${r.error ? `: ${r.error}` : ""}`);
    for (const c of r.failed) console.log(`    ${c.invariant} ${c.name}: ${c.detail}`);
  }
  console.log(`\nresults: ${path.relative(ROOT, outFile)}`);
  if (values.report) writeBlocks(result, [path.relative(ROOT, outFile)]);
}
const bad = runs.filter((r) => r.violations > 0 || r.notFinal > 0 || r.error).length;
if (bad) console.error(`[chaos] ${bad} of ${runs.length} scenario runs FAILED`);
process.exit(bad ? 1 : 0);

function crashed(scenario: string, postgres: PgMode, error: string): ScenarioRun {
  const s = SCENARIOS.find((x) => x.name === scenario)!;
  return {
    scenario, what: s.what, postgres, note: "", seconds: 0, accepted: 0, notFinal: 0, violations: 0, failed: [], checks: [],
    notApplicable: [], crowd: { refused: {}, retried: {}, notFound: 0, gaveUp: 0, seconds: 0 },
    replay: { tried: 0, sameTicket: 0, otherTicket: 0, refused: {} }, finalStates: {}, restarted: [], error,
  };
}

/** Every selected scenario on one database: own services, own web and workers, one sale each. */
async function runMode(mode: PgMode): Promise<ScenarioRun[]> {
  const dataDir = path.join(ROOT, ".data", ci ? `chaos-ci-${process.pid}` : "chaos", mode);
  // The database is kept between runs (a first PGlite start takes a minute); each scenario sells a
  // sale of its own. Redis starts from nothing, so its AOF holds only this run.
  rmSync(path.join(dataDir, "redis"), { recursive: true, force: true });
  const port = await freePort(Number(values.port));
  const servicePorts = await freePort(port + 2);
  const services = new ChaosServices(mode, dataDir, { pg: servicePorts, redis: servicePorts + 1 });
  let apps: ChaosApps | undefined;
  /** This process's own PostgreSQL and Redis clients, closed before the services stop (no reconnect noise). */
  let closeClients = async () => {};
  const out: ScenarioRun[] = [];
  const stopAll = async () => {
    await within("the web process, the workers and the services to stop", LIMIT.stop, async () => {
      await apps?.stop();
      await closeClients();
      await services.stop();
    }).catch((e: unknown) => log(`stopping: ${String(e)}`));
    if (ci) rmSync(dataDir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    const setupEnd = Date.now() + LIMIT.setup;
    const setup = <T>(what: string, work: () => Promise<T>) => within(`${what} (set-up)`, Math.max(1000, setupEnd - Date.now()), work);
    await setup("PostgreSQL and Redis to start", () => services.start());
    const baseUrl = `http://127.0.0.1:${port}`;
    const secrets = ensureLocalSecrets(dataDir);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...secrets,
      DATABASE_URL: services.databaseUrl,
      REDIS_URL: services.redisUrl,
      NEXTAUTH_URL: `http://localhost:${port}`,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      NEXT_DIST_DIR: values["dist-dir"],
      PORT: String(port),
      HOST: "127.0.0.1",
      RATE_LIMITS: "0",
      // A killed worker's unacknowledged tickets are taken over after this long by the others.
      WORKER_CLAIM_IDLE_MS: "2000",
      LOG_LEVEL: "warn",
    };
    Object.assign(process.env, {
      DATABASE_URL: env.DATABASE_URL,
      REDIS_URL: env.REDIS_URL,
      NEXTAUTH_SECRET: env.NEXTAUTH_SECRET,
      FLASH_TOKEN_SECRET: env.FLASH_TOKEN_SECRET,
    });
    await setup("the migrations", () => run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), env));
    await setup("the seed", () => run(...tsxArgs("scripts/seed.ts", ["--shoppers", String(shopperCount), "--quiet"]), env));
    // Only the web process's Next.js pages need a build; the buy path runs lib/ directly (scripts/server.ts).
    const distDir = values["dist-dir"];
    await setup("the Next.js build", () => ensureBuild({ distDir, reuseBuild: existsSync(path.join(ROOT, distDir, "BUILD_ID")) }, env));
    const { db } = await import("@/lib/db");
    const { redis } = await import("@/lib/redis");
    closeClients = async () => {
      redis().disconnect();
      await db().$disconnect();
    };
    const admin = await setup("the admin user", () => db().user.findFirstOrThrow({ where: { role: "ADMIN" }, select: { id: true } }));
    const shoppers = await setup("the shoppers' sessions", async () => mintSessions(await loadShoppers(shopperCount), env.NEXTAUTH_SECRET!));
    const running = new ChaosApps(env, baseUrl, ["chaos-worker-1", "chaos-worker-2"]);
    apps = running;
    await setup("the web process and the workers to start", () => running.startAll());
    for (const name of names) {
      const s = SCENARIOS.find((x) => x.name === name)!;
      log(`── ${s.name} on ${mode}: ${s.what}`);
      const r = await within(`the whole scenario ${s.name}`, SCENARIO_LIMIT, () =>
        runScenario(s, mode, { services, apps: running, adminId: admin.id, shoppers, baseUrl, redis: redis() }),
      ).catch((e: unknown) => {
        if (e instanceof ChaosTimeout) log(`   ✗ TIMEOUT in ${s.name} on ${mode}: ${e.message}`);
        return crashed(s.name, mode, e instanceof Error ? e.message : String(e));
      });
      log(`   ${r.note}: ${r.violations} violations, ${r.notFinal} of ${r.accepted} 202s not final, ${r.seconds} s${r.error ? `, ERROR ${r.error}` : ""}`);
      log(`   crowd: refused ${JSON.stringify(r.crowd.refused)}, retried ${JSON.stringify(r.crowd.retried)}, gave up ${r.crowd.gaveUp}; final ${JSON.stringify(r.finalStates)}; restarted ${r.restarted.join(", ") || "nothing"}`);
      for (const k of r.failed) log(`   ✗ ${k.invariant} ${k.name}: ${k.detail}`);
      out.push(r);
      // The next scenario starts from a running stack.
      await within("dead processes to start again before the next scenario", LIMIT.restart, () => running.restartDead());
    }
  } catch (e) {
    log(`setup failed: ${e instanceof Error ? e.stack : String(e)}`);
    for (const n of names.filter((n) => !out.some((r) => r.scenario === n))) out.push(crashed(n, mode, `setup: ${String(e)}`));
  } finally {
    await stopAll();
  }
  return out;
}

async function runScenario(
  s: Scenario,
  mode: PgMode,
  x: { services: ChaosServices; apps: ChaosApps; adminId: string; shoppers: Shopper[]; baseUrl: string; redis: import("@/lib/redis-connect").RedisClient },
): Promise<ScenarioRun> {
  const t0 = Date.now();
  const problems: string[] = [];
  const stock = Math.round(x.shoppers.length * 0.7);
  const a = await within(`the sale of ${s.name} to be created and preheated`, LIMIT.sale, () =>
    createBenchActivity(`chaos-${s.name}`, { stock, limit: 5, leadMs: 1500 }),
  );
  const c: FaultContext = { services: x.services, apps: x.apps, activityId: a.id, adminId: x.adminId, restocked: 0, over: false, cancelled: false };
  x.apps.restarts = [];
  await new Promise((r) => setTimeout(r, Math.max(0, a.startMs - Date.now())));
  x.services.trackAof();
  // The fault hits once 40% of the crowd has clicked; the crowd goes on through it.
  let fire: () => void = () => {};
  const due = new Promise<void>((r) => (fire = r));
  const crowd = runCrowd({
    baseUrl: x.baseUrl,
    activityId: a.id,
    shoppers: x.shoppers,
    ratePerSec: 100,
    inFlight: 16,
    deadlineMs: LIMIT.crowd,
    over: () => c.over,
    onProgress: (n) => n >= x.shoppers.length * 0.4 && fire(),
  });
  crowd.catch(() => {}); // awaited below; a step that fails first must not leave its rejection unhandled
  const crowdDone = crowd.then(() => undefined);
  await within("40% of the crowd to click", LIMIT.crowd, Promise.race([due, crowdDone]));
  let note: string;
  try {
    note = await within(`the fault of ${s.name} (${s.what})`, LIMIT.fault, () => s.inject(c));
  } finally {
    x.services.stopTracking();
  }
  // What the fault killed (or what crashed after it) comes back as an operator would start it.
  await new Promise((r) => setTimeout(r, 1500));
  const restart = () => within("dead processes to start again", LIMIT.restart, () => x.apps.restartDead());
  await restart();
  const seen = await within("the crowd to finish", LIMIT.crowd + 30_000, crowd);
  await restart();
  const replay = await within("the answers to the replayed clicks", LIMIT.replay, () => replayClicks(x.baseUrl, a.id, x.shoppers, seen.tickets));
  const { waitForDrain } = await import("@/lib/flash/invariants");
  const drained = await within(`the queue of sale ${a.id} to drain`, LIMIT.drain + 30_000, () => waitForDrain(x.redis, a.id, LIMIT.drain));
  if (!drained.drained) problems.push(`timed out after ${LIMIT.drain / 1000} s waiting for the queue of sale ${a.id} to drain (${await queueText(x.redis, a.id)})`);
  const answers = await within("the tickets' final answers", LIMIT.answers + 30_000, () => finalAnswers(x.baseUrl, x.shoppers, seen.tickets, LIMIT.answers));
  if (c.cancelled && !(await within("the cancelled sale's orders to close", 30_000, () => noLiveOrders(a.id, 20_000))))
    problems.push("timed out after 20 s waiting for the cancelled sale's orders to close");
  for (const p of problems) log(`   ✗ ${p}`);
  const { checks, notApplicable } = await within("the checks' reads of PostgreSQL and Redis", LIMIT.checks, () => chaosChecks(x.redis, {
    activityId: a.id,
    offered: stock + c.restocked,
    tickets: seen.tickets,
    answers,
    redisLost: Boolean(s.redisLost),
    notFound: seen.notFound,
    cancelled: c.cancelled,
  }));
  const failed = checks.filter((k) => !k.ok);
  const finalStates: Record<string, number> = {};
  for (const v of answers.values()) {
    const k = v.status === "REJECTED" ? `REJECTED ${v.code ?? ""}`.trim() : v.status;
    finalStates[k] = (finalStates[k] ?? 0) + 1;
  }
  const notFinal = seen.tickets.filter((t) => !["CONFIRMED", "REJECTED"].includes(answers.get(t.ticketId)?.status ?? "")).length;
  return {
    scenario: s.name,
    what: s.what,
    postgres: mode,
    note,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    accepted: seen.tickets.length,
    notFinal,
    violations: failed.filter((k) => k.invariant !== "RUN").length,
    failed,
    checks,
    notApplicable,
    crowd: { refused: seen.refused, retried: seen.retried, notFound: seen.notFound, gaveUp: seen.gaveUp, seconds: seen.seconds },
    replay,
    finalStates,
    restarted: [...x.apps.restarts],
    ...(failed.some((k) => k.invariant === "RUN") ? { error: [...problems, "the run exercised nothing"].join("; ") } : {}),
    ...(problems.length && !failed.some((k) => k.invariant === "RUN") ? { error: problems.join("; ") } : {}),
  };
}

/** Polls until the sale has no payable or paid order; false if some are left after `timeoutMs`. */
async function noLiveOrders(activityId: string, timeoutMs: number): Promise<boolean> {
  const { db } = await import("@/lib/db");
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const n = await db().order.count({ where: { activityId, status: { in: ["PENDING_PAYMENT", "PAID"] } } });
    if (n === 0) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Where a queue that did not drain stands: tickets admitted vs answered, entries pending and unread. */
async function queueText(redis: import("@/lib/redis-connect").RedisClient, activityId: string): Promise<string> {
  const { readState, readWorkerGroup } = await import("@/lib/flash/store");
  const [state, group] = await within("the queue's state in Redis", 10_000, () =>
    Promise.all([readState(redis, activityId), readWorkerGroup(redis, activityId)]),
  ).catch(() => [null, null] as const);
  if (!state) return "no sale state in Redis";
  return `${state.admitted} admitted, ${state.served} answered; ${group ? `${group.pending} pending, ${group.lag} unread` : "no worker group"}`;
}

