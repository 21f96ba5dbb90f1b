// `npm run chaos [-- options]`: the fault suite. A crowd buys while one fault at a time hits the stack
// (kill -9 of a worker, all workers, the web process, PostgreSQL, Redis; Redis back empty or rewound;
// end / cancel / pause / restock under load). After each, what died is started again as an operator
// would, the queue drains, and the suite checks I1–I4 and that every 202 the crowd saw reached a
// final answer. Loopback only; bounded in shoppers and time. Exits 1 on any failed check.
//   --postgres pglite,native   database(s) to run on (each in its own process; default both)
//   --scenarios a,b            a subset (names: see bench/chaos/scenarios.ts)
//   --ci                       the part `npm test` runs: fewer shoppers, CI_SCENARIOS, PGlite
//   --shoppers N --out FILE --dist-dir DIR
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ChaosApps } from "@/bench/chaos/apps";
import { chaosChecks, type ChaosCheck } from "@/bench/chaos/checks";
import { finalAnswers, replayClicks, runCrowd } from "@/bench/chaos/crowd";
import { CI_SCENARIOS, SCENARIOS, type FaultContext, type Scenario } from "@/bench/chaos/scenarios";
import { ChaosServices, type PgMode } from "@/bench/chaos/services";
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
  },
});
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

export interface ScenarioRun {
  scenario: string;
  what: string;
  postgres: PgMode;
  note: string;
  seconds: number;
  accepted: number;
  notFinal: number;
  violations: number;
  failed: ChaosCheck[];
  checks: ChaosCheck[];
  notApplicable: string[];
  crowd: { refused: Record<string, number>; retried: Record<string, number>; notFound: number; gaveUp: number; seconds: number };
  replay: { tried: number; sameTicket: number; otherTicket: number; refused: Record<string, number> };
  finalStates: Record<string, number>;
  restarted: string[];
  error?: string;
}

export interface ChaosResult {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; model: string; node: string };
  options: { shoppers: number; ci: boolean; scenarios: string[]; postgres: PgMode[] };
  runs: ScenarioRun[];
}

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
    spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, CHAOS_PART: "1" } });
    if (existsSync(part)) {
      runs.push(...(JSON.parse(readFileSync(part, "utf8")) as ChaosResult).runs);
      rmSync(part);
    } else runs.push(...names.map((n) => crashed(n, mode, "the suite's process for this database wrote no results")));
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
  if (values.report) writeBlocks(result, path.relative(ROOT, outFile));
}
const bad = runs.filter((r) => r.violations > 0 || r.notFinal > 0 || r.error).length;
if (bad) console.error(`[chaos] ${bad} of ${runs.length} scenario runs FAILED`);
process.exit(bad ? 1 : 0);

function crashed(scenario: string, postgres: PgMode, error: string): ScenarioRun {
  const s = SCENARIOS.find((x) => x.name === scenario)!;
  return {
    scenario, what: s.what, postgres, note: "", seconds: 0, accepted: 0, notFinal: 0, violations: 1, failed: [], checks: [],
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
  const services = new ChaosServices(mode, dataDir);
  let apps: ChaosApps | undefined;
  const out: ScenarioRun[] = [];
  const stopAll = async () => {
    await apps?.stop();
    await services.stop();
    if (ci) rmSync(dataDir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    await services.start();
    const port = await freePort(Number(values.port));
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
    await run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), env);
    await run(...tsxArgs("scripts/seed.ts", ["--shoppers", String(shopperCount), "--quiet"]), env);
    // Only the web process's Next.js pages need a build; the buy path runs lib/ directly (scripts/server.ts).
    await ensureBuild({ distDir: values["dist-dir"], reuseBuild: existsSync(path.join(ROOT, values["dist-dir"], "BUILD_ID")) }, env);
    const { db } = await import("@/lib/db");
    const { redis } = await import("@/lib/redis");
    const admin = await db().user.findFirstOrThrow({ where: { role: "ADMIN" }, select: { id: true } });
    const shoppers = await mintSessions(await loadShoppers(shopperCount), env.NEXTAUTH_SECRET!);
    apps = new ChaosApps(env, baseUrl, ["chaos-worker-1", "chaos-worker-2"]);
    await apps.startAll();
    for (const name of names) {
      const s = SCENARIOS.find((x) => x.name === name)!;
      log(`── ${s.name} on ${mode}: ${s.what}`);
      const r = await runScenario(s, mode, { services, apps, adminId: admin.id, shoppers, baseUrl, redis: redis() }).catch(
        (e: unknown) => crashed(s.name, mode, e instanceof Error ? e.message : String(e)),
      );
      log(`   ${r.note}: ${r.violations} violations, ${r.notFinal} of ${r.accepted} 202s not final, ${r.seconds} s${r.error ? `, ERROR ${r.error}` : ""}`);
      log(`   crowd: refused ${JSON.stringify(r.crowd.refused)}, retried ${JSON.stringify(r.crowd.retried)}, gave up ${r.crowd.gaveUp}; final ${JSON.stringify(r.finalStates)}; restarted ${r.restarted.join(", ") || "nothing"}`);
      for (const k of r.failed) log(`   ✗ ${k.invariant} ${k.name}: ${k.detail}`);
      out.push(r);
      await apps.restartDead(); // the next scenario starts from a running stack
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
  const stock = Math.round(x.shoppers.length * 0.7);
  const a = await createBenchActivity(`chaos-${s.name}`, { stock, limit: 5, leadMs: 1500 });
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
    deadlineMs: 90_000,
    over: () => c.over,
    onProgress: (n) => n >= x.shoppers.length * 0.4 && fire(),
  });
  await due;
  const note = await s.inject(c);
  x.services.stopTracking();
  // What the fault killed (or what crashed after it) comes back as an operator would start it.
  await new Promise((r) => setTimeout(r, 1500));
  await x.apps.restartDead();
  const seen = await crowd;
  await x.apps.restartDead();
  const replay = await replayClicks(x.baseUrl, a.id, x.shoppers, seen.tickets);
  const { waitForDrain } = await import("@/lib/flash/invariants");
  await waitForDrain(x.redis, a.id, ci ? 45_000 : 60_000);
  const answers = await finalAnswers(x.baseUrl, x.shoppers, seen.tickets, 30_000);
  if (c.cancelled) await waitForNoLiveOrders(a.id, 20_000);
  const { checks, notApplicable } = await chaosChecks(x.redis, {
    activityId: a.id,
    offered: stock + c.restocked,
    tickets: seen.tickets,
    answers,
    redisLost: Boolean(s.redisLost),
    notFound: seen.notFound,
    cancelled: c.cancelled,
  });
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
    ...(failed.some((k) => k.invariant === "RUN") ? { error: "the run exercised nothing" } : {}),
  };
}

async function waitForNoLiveOrders(activityId: string, timeoutMs: number) {
  const { db } = await import("@/lib/db");
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const n = await db().order.count({ where: { activityId, status: { in: ["PENDING_PAYMENT", "PAID"] } } });
    if (n === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Replaces the chaos:begin … chaos:end block of the README and docs/chaos.md with this run's table. */
function writeBlocks(r: ChaosResult, file: string) {
  const when = `${r.startedAt.slice(0, 16).replace("T", " ")} UTC, ${r.machine.cpus} cores (${r.machine.model.trim()}), ${r.options.shoppers} shoppers per scenario`;
  const block = `<!-- chaos:begin (npm run chaos -- --report writes this block) -->\n${renderTable(r)}\n\nCells: violations of I1–I4 and the suite's checks / 202s without a final state / 202s the crowd saw / seconds (fault, restarts, drain and checks included). Run of ${when}; the full results, every check with its figures, are in \`${file}\` (not committed: bench/results/*.json is ignored).\n<!-- chaos:end -->`;
  for (const f of ["README.md", "docs/chaos.md"].map((x) => path.join(ROOT, x))) {
    const text = readFileSync(f, "utf8");
    const next = text.replace(/<!-- chaos:begin[\s\S]*?<!-- chaos:end -->/, block);
    if (next !== text) writeFileSync(f, next);
  }
}

/** The README's table: one row per scenario, one column group per database. */
export function renderTable(r: ChaosResult): string {
  const dbs = [...new Set(r.runs.map((x) => x.postgres))];
  const head = ["Scenario", ...dbs.map((d) => `${d}: violations / not final / 202s / s`)];
  const rows = [...new Set(r.runs.map((x) => x.scenario))].map((sc) => [
    `${sc} — ${r.runs.find((x) => x.scenario === sc)!.what}`,
    ...dbs.map((d) => {
      const x = r.runs.find((y) => y.scenario === sc && y.postgres === d);
      if (!x) return "–";
      const mark = x.violations || x.notFinal || x.error ? "✗" : "✓";
      return `${mark} ${x.violations} / ${x.notFinal} / ${x.accepted} / ${x.seconds}`;
    }),
  ]);
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

