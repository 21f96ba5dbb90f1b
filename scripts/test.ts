// `npm test`: typecheck, lint, unit and integration tests (vitest, real Redis and PostgreSQL),
// the Playwright suite in Debian chromium against a production build, and the benchmark's CI mode.
// Every suite must run and report tests; a suite that runs none fails the whole command.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { formatStartupError, testServices } from "@/scripts/services/index";
import { ROOT, run, startProcess, stopProcesses, tsxArgs, waitForHttp } from "@/scripts/lib/procs";

const only = process.argv.slice(2);
const want = (step: string) => only.length === 0 || only.includes(step);
const reports = path.join(ROOT, ".data", "test-reports");
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const counts: { suite: string; passed: number; failed: number; skipped: number }[] = [];
const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);
const step = (name: string) => console.log(`\n━━ ${name} ━━`);

if (want("typecheck")) {
  step("typecheck");
  await run(bin("next"), ["typegen"]);
  await run(bin("tsc"), ["--noEmit", "-p", "."]);
}
if (want("lint")) {
  step("lint");
  await run(bin("eslint"), [".", "--max-warnings", "0"]);
}

let services: Awaited<ReturnType<typeof testServices>>;
try {
  services = await testServices();
} catch (e) {
  console.error(formatStartupError(e));
  process.exit(1);
}
const children: ChildProcess[] = [];
process.on("SIGINT", () => void stopProcesses(children).then(() => services.stop()).then(() => process.exit(130)));

const port = Number(process.env.TEST_PORT ?? 3100);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: services.databaseUrl,
  REDIS_URL: services.redisUrl,
  NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? randomBytes(32).toString("base64url"),
  FLASH_TOKEN_SECRET: process.env.FLASH_TOKEN_SECRET ?? randomBytes(32).toString("base64url"),
  NEXTAUTH_URL: `http://localhost:${port}`,
  NEXT_TELEMETRY_DISABLED: "1",
  BASE_URL: `http://localhost:${port}`,
};

let failed = false;
try {
  step("migrate test database");
  await run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), env);

  if (want("vitest")) {
    step("unit + integration (vitest)");
    const out = path.join(reports, "vitest.json");
    await run(bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`], { ...env, NODE_ENV: "test" })
      .catch((e: unknown) => { failed = true; console.error(String(e)); });
    countVitest(out);
  }

  if (want("e2e")) {
    step("build (production)");
    await run(...tsxArgs("scripts/seed.ts", ["--shoppers", "20", "--quiet"]), env);
    await run(bin("next"), ["build"], { ...env, NODE_ENV: "production" });
    step("e2e (playwright, chromium)");
    const prodEnv = { ...env, NODE_ENV: "production" as const, PORT: String(port), WORKER_CLAIM_IDLE_MS: "3000" };
    const web = startProcess("web", ...tsxArgs("scripts/server.ts"), prodEnv);
    children.push(web);
    for (const n of [1, 2]) children.push(startProcess(`worker${n}`, ...tsxArgs("scripts/worker.ts"), { ...prodEnv, WORKER_NAME: `e2e-${n}` }));
    await waitForHttp(`http://127.0.0.1:${port}/api/time`, 90_000, web);
    const out = path.join(reports, "playwright.json");
    await run(bin("playwright"), ["test", "-c", "playwright"], { ...env, PLAYWRIGHT_JSON_OUTPUT_NAME: out })
      .catch((e: unknown) => { failed = true; console.error(String(e)); });
    countPlaywright(out);
    await stopProcesses(children.splice(0));
  }

  if (want("bench")) {
    step("benchmark, CI mode (fails only on an invariant violation)");
    await run(...tsxArgs("bench/run.ts", ["--ci"]), env)
      .then(() => counts.push({ suite: "bench invariants", passed: 1, failed: 0, skipped: 0 }))
      .catch((e: unknown) => {
        failed = true;
        counts.push({ suite: "bench invariants", passed: 0, failed: 1, skipped: 0 });
        console.error(String(e));
      });
  }
} catch (e) {
  failed = true;
  console.error(`[test] ${e instanceof Error ? e.message : String(e)}`);
} finally {
  await stopProcesses(children);
  await services.stop();
}

step("summary");
for (const c of counts) console.log(`  ${c.suite.padEnd(18)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
const total = counts.reduce((t, c) => ({ p: t.p + c.passed, f: t.f + c.failed, s: t.s + c.skipped }), { p: 0, f: 0, s: 0 });
const empty = counts.filter((c) => c.passed + c.failed === 0);
for (const c of empty) console.error(`  ${c.suite}: ran no test — that is a failure`);
if (total.s > 0) console.error(`  ${total.s} skipped tests — nothing may be skipped`);
console.log(`${total.p} passed, ${total.f} failed`);
process.exit(failed || total.f > 0 || total.s > 0 || empty.length > 0 ? 1 : 0);

function countVitest(file: string) {
  try {
    const r = JSON.parse(readFileSync(file, "utf8")) as { testResults: { name: string; assertionResults: { status: string }[] }[] };
    for (const suite of ["unit", "integration"]) {
      const c = { suite, passed: 0, failed: 0, skipped: 0 };
      for (const f of r.testResults.filter((t) => t.name.includes(`/tests/${suite}/`))) {
        for (const a of f.assertionResults) {
          if (a.status === "passed") c.passed++;
          else if (a.status === "failed") c.failed++;
          else c.skipped++;
        }
      }
      counts.push(c);
    }
  } catch {
    failed = true;
    counts.push({ suite: "vitest", passed: 0, failed: 1, skipped: 0 });
  }
}

function countPlaywright(file: string) {
  try {
    const r = JSON.parse(readFileSync(file, "utf8")) as { stats: { expected: number; unexpected: number; skipped: number; flaky: number } };
    counts.push({ suite: "e2e", passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected, skipped: r.stats.skipped });
  } catch {
    failed = true;
    counts.push({ suite: "e2e", passed: 0, failed: 1, skipped: 0 });
  }
}
