// `npm test`: typecheck, lint, unit tests, integration tests (vitest, real Redis and PostgreSQL), the
// Playwright suite in Debian chromium against a production build (two instances of it, nginx over both),
// the benchmark's CI mode, and the fault suite's CI part (bench/chaos: five scenarios on PGlite, one test each).
//   tsx scripts/test.ts [typecheck|lint|unit|integration|cluster|vitest|e2e|bench|chaos|screenshots]… [file filters…]
// No step named: all of them but screenshots. `vitest` = unit + integration + cluster. Other words filter vitest's
// test files and Playwright's spec files (`npm test -- e2e shopper-state` runs that spec and the sign-in setup).
// `cluster` runs the concurrency tests (CLUSTER_FILES) again on a private 3-master Redis Cluster.
// Services and migrations start only for the steps that need them (integration, cluster, e2e, bench, chaos).
// Every suite must run and report tests; a suite that runs none, or skips one, fails the whole command.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { formatStartupError, testRedisCluster, testServices, type Services } from "@/scripts/services/index";
import { startNginx } from "@/scripts/services/nginx";
import { ROOT, bundledArgs, run, startProcess, stopProcesses, stopRunning, tsxArgs, waitForHttp } from "@/scripts/lib/procs";

const STEPS = ["typecheck", "lint", "unit", "integration", "cluster", "vitest", "e2e", "bench", "chaos", "screenshots"] as const;
/** Integration files run a second time on a Redis Cluster: the concurrency invariants and slot placement. */
const CLUSTER_FILES = ["flash-admission", "flash-segments", "worker-crash", "worker-reads", "redis-cluster", "redis-client", "instances-sync", "next-cache", "fair-entry", "waitlist", "channels"];
const args = process.argv.slice(2);
const steps = args.filter((a) => (STEPS as readonly string[]).includes(a));
const filters = args.filter((a) => !(STEPS as readonly string[]).includes(a));
// `screenshots` (npm run screenshots) runs only when named: it rewrites docs/screenshots/.
const want = (step: (typeof STEPS)[number]) =>
  (steps.length === 0 && step !== "screenshots") ||
  steps.includes(step) ||
  (steps.includes("vitest") && (step === "unit" || step === "integration" || step === "cluster"));
// A test-only knob, so read here rather than in lib/env.ts.
const port = Number(process.env.TEST_PORT || 3100);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`TEST_PORT: must be a port number (1-65535), got "${process.env.TEST_PORT}"`);
  process.exit(1);
}

const reports = path.join(ROOT, ".data", "test-reports");
mkdirSync(reports, { recursive: true });
/** A suite's report path, emptied first: a run that writes none must not count an earlier run's results. */
const report = (name: string) => {
  const file = path.join(reports, name);
  rmSync(file, { force: true });
  return file;
};

const counts: { suite: string; passed: number; failed: number; skipped: number }[] = [];
/** Each failed test by name with its first error line, repeated under the summary: CI shows only the end of the output. */
const failures: string[] = [];
const firstLine = (s: string | undefined) =>
  (s ?? "")
    .replace(/\x1b\[[0-9;]*m/g, "")
    .split("\n")
    .find((l) => l.trim())
    ?.trim()
    .slice(0, 300) ?? "";
const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);
const step = (name: string) => console.log(`\n━━ ${name} ━━`);
let failed = false;
const fail = (e: unknown, listed = true) => {
  failed = true;
  const message = e instanceof Error ? e.message : String(e);
  console.error(`[test] ${message}`);
  if (listed) failures.push(firstLine(message));
};
/** A runner's non-zero exit: its report, read next, names what failed (a missing report is listed then). */
const runnerFailed = (e: unknown) => fail(e, false);
/** A check without test cases (typecheck, lint, bench invariants) counts as one test. */
const check = (suite: string, p: Promise<unknown>) =>
  p.then(
    () => void counts.push({ suite, passed: 1, failed: 0, skipped: 0 }),
    (e: unknown) => {
      fail(e);
      counts.push({ suite, passed: 0, failed: 1, skipped: 0 });
    },
  );
const vitest = (project: "unit" | "integration", env: NodeJS.ProcessEnv, suite: string = project, files = filters) => {
  const out = report(`vitest-${suite}.json`);
  const argv = ["run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${out}`];
  return run(bin("vitest"), [...argv, ...files], { ...env, NODE_ENV: "test" })
    .catch(runnerFailed)
    .then(() => countVitest(suite, out));
};

if (want("typecheck")) {
  step("typecheck");
  await check("typecheck", run(bin("next"), ["typegen"]).then(() => run(bin("tsc"), ["--noEmit", "-p", "."])));
}
if (want("lint")) {
  step("lint");
  await check("lint", run(bin("eslint"), [".", "--max-warnings", "0"]));
}
if (want("unit")) {
  step("unit (vitest)");
  await vitest("unit", process.env);
}

const needsServices = want("integration") || want("cluster") || want("e2e") || want("bench") || want("chaos") || want("screenshots");
let services: Services | undefined;
const children: ChildProcess[] = [];
const stopAll = async () => {
  await Promise.all([stopRunning(), stopProcesses(children.splice(0))]);
  await services?.stop();
};
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void stopAll().then(() => process.exit(130)));

if (needsServices) {
  try {
    services = await testServices();
  } catch (e) {
    console.error(formatStartupError(e));
    process.exit(1);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? randomBytes(32).toString("base64url"),
    FLASH_TOKEN_SECRET: process.env.FLASH_TOKEN_SECRET ?? randomBytes(32).toString("base64url"),
    // /metrics is off without it; the e2e suite scrapes the production server's (playwright/ops.spec.ts).
    METRICS_TOKEN: process.env.METRICS_TOKEN ?? randomBytes(24).toString("base64url"),
    NEXTAUTH_URL: `http://localhost:${port}`,
    NEXT_TELEMETRY_DISABLED: "1",
    BASE_URL: `http://localhost:${port}`,
    // The suites check behaviour, and must pass beside a CPU hog started from the same shell: in the
    // same session (one scheduler autogroup) a niced pages process would hand the hog its CPU and
    // the browser tests would time out. The pages' lower priority is measured by the bench (bots).
    WEB_PAGES_NICE: process.env.WEB_PAGES_NICE ?? "0",
    // The same for the password-hashing thread: at nice 19 beside the hog one bcrypt check took ~4 s,
    // and the sign-in lockout tests (13 checks) ran into their 60 s timeout.
    PASSWORD_HASH_NICE: process.env.PASSWORD_HASH_NICE ?? "0",
  };
  try {
    step("migrate test database");
    await run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), env);

    if (want("integration")) {
      step("integration (vitest, real PostgreSQL and Redis)");
      await vitest("integration", env);
    }

    if (want("cluster")) await clusterPass(env);

    if (want("e2e") || want("screenshots")) {
      if (want("integration")) await resetStores(env);
      step("build (production)");
      await run(...tsxArgs("scripts/seed.ts", ["--shoppers", "20", "--quiet"]), env);
      await run(bin("next"), ["build"], { ...env, NODE_ENV: "production" });
      const prodEnv = { ...env, NODE_ENV: "production" as const, PORT: String(port), WORKER_CLAIM_IDLE_MS: "3000" };
      // e2e: a second instance of the same build (B, on port+1) and nginx over both (port+2), for
      // playwright/instances.spec.ts: an edit made on A must show on B (Next.js's cache in Redis).
      const webPorts = want("e2e") ? [port, port + 1] : [port];
      const [web, worker] = [await bundledArgs("scripts/server.ts"), await bundledArgs("scripts/worker.ts")];
      const webs = webPorts.map((p, i) => startProcess(i === 0 ? "web" : "web-b", ...web, { ...prodEnv, PORT: String(p) }));
      children.push(...webs);
      for (const n of [1, 2]) children.push(startProcess(`worker${n}`, ...worker, { ...prodEnv, WORKER_NAME: `e2e-${n}` }));
      // Generous: on a loaded machine (stress --cpu 2 beside it) the production server takes well over a minute to answer.
      await Promise.all(webs.map((w, i) => waitForHttp(`http://127.0.0.1:${webPorts[i]}/api/time`, 240_000, w)));
      if (want("e2e")) {
        const nginxDir = path.join(ROOT, ".data", `e2e-nginx-${port}`);
        const balancer = await startNginx({ port: port + 2, upstreams: webPorts, dir: nginxDir });
        children.push(balancer.process);
        step(`e2e (playwright, chromium, port ${port}; instance B on ${port + 1}, nginx over both on ${port + 2})`);
        const out = report("playwright.json");
        const specs = filters.length ? [...filters, "auth.setup"] : [];
        const e2eEnv = {
          ...env,
          PLAYWRIGHT_JSON_OUTPUT_NAME: out,
          BASE_URL_B: `http://localhost:${port + 1}`,
          BASE_URL_LB: balancer.url,
        };
        await run(bin("playwright"), ["test", "-c", "playwright", ...specs], e2eEnv).catch(runnerFailed);
        countPlaywright(out, "e2e");
      }
      if (want("screenshots")) {
        step("screenshots (playwright, zh-CN, docs/screenshots/)");
        const out = report("screenshots.json");
        await run(bin("playwright"), ["test", "-c", "playwright/screenshots.config.ts"], { ...env, PLAYWRIGHT_JSON_OUTPUT_NAME: out }).catch(runnerFailed);
        countPlaywright(out, "screenshots");
      }
      await stopProcesses(children.splice(0));
    }

    if (want("bench")) {
      step("benchmark, CI mode (fails only on an invariant violation)");
      await check("bench invariants", run(...tsxArgs("bench/run.ts", ["--ci"]), env));
    }

    if (want("chaos")) {
      // Its own PGlite and Redis (it kills and wipes them); the build e2e made serves its pages.
      step("fault suite, CI part (kill -9 a worker, Redis restarted, Redis empty, Redis rewound, cancel with a backlog; PGlite)");
      const out = report("chaos.json");
      const argv = ["--ci", "--postgres", "pglite", "--port", String(port), "--dist-dir", ".next", "--out", out];
      await run(...tsxArgs("bench/chaos/run.ts", argv), { ...env, NODE_ENV: "production" }).catch(runnerFailed);
      countChaos(out);
    }
  } catch (e) {
    fail(e);
  } finally {
    await stopAll();
  }
}

step("summary");
for (const c of counts) console.log(`  ${c.suite.padEnd(18)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
const total = counts.reduce((t, c) => ({ p: t.p + c.passed, f: t.f + c.failed, s: t.s + c.skipped }), { p: 0, f: 0, s: 0 });
const empty = counts.filter((c) => c.passed + c.failed === 0);
for (const c of empty) console.error(`  ${c.suite}: ran no test — that is a failure`);
if (total.s > 0) console.error(`  ${total.s} skipped tests — nothing may be skipped`);
if (counts.length === 0) console.error(`  no suite ran (steps: ${STEPS.join(", ")})`);
if (failures.length) {
  console.error(`\n━━ what failed (${failures.length}) ━━`);
  for (const f of failures) console.error(`  ✗ ${f}`);
}
console.log(`${total.p} passed, ${total.f} failed`);
process.exit(failed || total.f > 0 || total.s > 0 || empty.length > 0 || counts.length === 0 ? 1 : 0);

/** The concurrency tests again, on a private 3-master Redis Cluster (same PostgreSQL: every test makes its own sale). */
async function clusterPass(env: NodeJS.ProcessEnv) {
  const files = CLUSTER_FILES.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x) || x.includes(f)));
  step(`integration on a Redis Cluster, 3 masters (${files.join(", ") || "no file matches the filters"})`);
  if (files.length === 0) return;
  const cluster = await testRedisCluster();
  try {
    console.log(`[test] Redis Cluster ${cluster.redisUrl}`);
    await vitest("integration", { ...env, REDIS_URL: cluster.redisUrl }, "integration-cluster", files);
  } finally {
    await cluster.stop();
  }
}

function countVitest(suite: string, file: string) {
  const c = { suite, passed: 0, failed: 0, skipped: 0 };
  try {
    type Assertion = { status: string; fullName: string; failureMessages?: string[] };
    const r = JSON.parse(readFileSync(file, "utf8")) as { testResults: { name: string; message?: string; assertionResults: Assertion[] }[] };
    for (const f of r.testResults) {
      const where = path.relative(ROOT, f.name);
      // A file that failed to load (or a hook that threw) has no failed assertion, only a message.
      if (f.message && !f.assertionResults.some((a) => a.status === "failed")) failures.push(`${suite}: ${where}: ${firstLine(f.message)}`);
      for (const a of f.assertionResults) {
        if (a.status === "passed") c.passed++;
        else if (a.status === "failed") {
          c.failed++;
          failures.push(`${suite}: ${where} › ${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
        } else {
          c.skipped++;
          failures.push(`${suite}: ${where} › ${a.fullName}: ${a.status}`);
        }
      }
    }
  } catch (e) {
    fail(`${suite}: no vitest report (${e instanceof Error ? e.message : String(e)})`);
    c.failed++;
  }
  counts.push(c);
}

/** One test per scenario run of the fault suite: passed only with no violation and every 202 final. */
function countChaos(file: string) {
  const c = { suite: "chaos", passed: 0, failed: 0, skipped: 0 };
  try {
    const r = JSON.parse(readFileSync(file, "utf8")) as { runs: { violations: number; notFinal: number; error?: string; scenario?: string }[] };
    for (const x of r.runs) {
      if (x.violations === 0 && x.notFinal === 0 && !x.error) c.passed++;
      else {
        c.failed++;
        failures.push(`chaos: ${x.scenario ?? "a scenario"}: ${x.violations} violations, ${x.notFinal} not final${x.error ? `, ${firstLine(x.error)}` : ""}`);
      }
    }
  } catch (e) {
    fail(`chaos: no results (${e instanceof Error ? e.message : String(e)})`);
    c.failed++;
  }
  counts.push(c);
}

function countPlaywright(file: string, suite: string) {
  try {
    type Spec = { title: string; file: string; ok: boolean; tests: { results: { error?: { message?: string } }[] }[] };
    type Suite = { specs?: Spec[]; suites?: Suite[] };
    const r = JSON.parse(readFileSync(file, "utf8")) as Suite & { stats: { expected: number; unexpected: number; skipped: number; flaky: number } };
    counts.push({ suite, passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected, skipped: r.stats.skipped });
    const walk = (s: Suite): void => {
      for (const spec of s.specs ?? []) {
        if (spec.ok) continue;
        const error = spec.tests.flatMap((t) => t.results).find((x) => x.error)?.error?.message;
        failures.push(`${suite}: ${spec.file} › ${spec.title}: ${firstLine(error)}`);
      }
      (s.suites ?? []).forEach(walk);
    };
    walk(r);
  } catch (e) {
    fail(`${suite}: no playwright report (${e instanceof Error ? e.message : String(e)})`);
    counts.push({ suite, passed: 0, failed: 1, skipped: 0 });
  }
}

// The e2e suite starts from a freshly migrated, seeded database and an empty Redis: the integration
// tests leave dozens of live sales behind, which pushed the seeded sale off the storefront's list.
async function resetStores(env: NodeJS.ProcessEnv) {
  step("reset the test database and Redis for e2e");
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  try {
    await client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
  } finally {
    await client.end();
  }
  const redis = new Redis(env.REDIS_URL ?? "", { maxRetriesPerRequest: 2 });
  try {
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
  await run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), env);
}
