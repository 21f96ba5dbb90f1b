// `npm run bench -- --durability everysec,always,replica [--shoppers N] [--runs N] [--postgres pglite|native]`:
// what the stronger Redis durability modes cost, side by side, in one invocation.
//   everysec  the private Redis's AOF fsynced once a second (an OS crash can lose the last second)
//   always    AOF fsynced before every write is answered
//   replica   everysec plus a replica (a second redis-server on loopback); admission answers 202
//             only after WAIT 1 confirms the replica holds it (REDIS_WAIT_REPLICAS=1)
// Per mode, twice interleaved by default: (1) end to end, the admit crowd of the bench (every shopper
// clicks once on a sale with a unit for each, bench/lib/buyers.ts) through the web process with two
// workers persisting alongside; (2) Redis alone: the admission script on a scratch activity from 50
// concurrent callers on one auto-pipelined connection (plus WAIT in replica mode), 3 s.
// One Redis serves every mode (CONFIG SET appendfsync, REPLICAOF on the replica), so only the mode changes.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { ChaosApps } from "@/bench/chaos/apps";
import { createBenchActivity, retireBenchActivities } from "@/bench/lib/activity";
import { runBuyers } from "@/bench/lib/buyers";
import { startReference } from "@/bench/lib/reference";
import { REFERENCE_EPOCH } from "@/bench/lib/reference-epoch";
import { loadShoppers, mintSessions } from "@/bench/lib/sessions";
import { ensureBuild, freePort } from "@/bench/lib/stack";
import { median, round } from "@/bench/lib/stats";
import { admissionKeys, newTicketId, withScripts } from "@/lib/flash/store";
import { redis } from "@/lib/redis";
import { ROOT, run, tsxArgs } from "@/scripts/lib/procs";
import { ensureLocalSecrets } from "@/scripts/lib/secrets";
import { ensureServices } from "@/scripts/services/index";
import { startRedis } from "@/scripts/services/redis";
import { waitFor, type ServerHandle } from "@/scripts/services/util";

const MODES = ["everysec", "always", "replica"] as const;
type Mode = (typeof MODES)[number];

const { values } = parseArgs({
  options: {
    durability: { type: "string", default: MODES.join(",") },
    shoppers: { type: "string", default: "10000" },
    runs: { type: "string", default: "2" },
    connections: { type: "string", default: "100" },
    postgres: { type: "string", default: "pglite" },
    port: { type: "string", default: "3400" },
    "dist-dir": { type: "string", default: ".data/chaos/next" },
    out: { type: "string" },
    /** Only the Redis-alone measurement (no web process, no crowd): minutes less on a loaded machine. */
    "redis-only": { type: "boolean", default: false },
  },
  strict: false,
});
const modes = String(values.durability).split(",") as Mode[];
if (modes.some((m) => !MODES.includes(m)) || !["pglite", "native"].includes(String(values.postgres))) {
  console.error(`--durability: a list of ${MODES.join(", ")}; --postgres pglite|native`);
  process.exit(2);
}
const shoppers = Number(values.shoppers);
const runs = Number(values.runs);
const log = (line: string) => console.log(`[durability] ${line}`);
const dataDir = path.join(ROOT, ".data", "bench-durability");
const distDir = String(values["dist-dir"]);

interface ModeRun {
  mode: Mode;
  run: number;
  endToEnd: { admitted: number; admittedPerSec: number; p50: number; p99: number; errors: number; unavailable: number };
  redisOnly: { perSec: number; p50: number; p99: number };
}

const services = await ensureServices({ dataDir, only: ["postgres"], postgres: values.postgres as "pglite" | "native", log });
const handles: ServerHandle[] = [];
let apps: ChaosApps | undefined;
const results: ModeRun[] = [];
try {
  const primary = await startRedis({ dir: path.join(dataDir, "redis"), log, appendfsync: "everysec" });
  const replica = await startRedis({ dir: path.join(dataDir, "replica"), log, appendfsync: "everysec" });
  handles.push(primary, replica);
  const admin = new Redis(primary.url);
  const replicaAdmin = new Redis(replica.url);
  const port = await freePort(Number(values.port));
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...ensureLocalSecrets(dataDir),
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: primary.url,
    NEXTAUTH_URL: `http://localhost:${port}`,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    NEXT_DIST_DIR: distDir,
    PORT: String(port),
    HOST: "127.0.0.1",
    RATE_LIMITS: "0",
    LOG_LEVEL: "warn",
  };
  Object.assign(process.env, { DATABASE_URL: env.DATABASE_URL, REDIS_URL: env.REDIS_URL, NEXTAUTH_SECRET: env.NEXTAUTH_SECRET, FLASH_TOKEN_SECRET: env.FLASH_TOKEN_SECRET });
  await run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), env);
  if (!values["redis-only"]) await run(...tsxArgs("scripts/seed.ts", ["--shoppers", String(shoppers), "--quiet"]), env);
  // Only Next.js pages come from the build; admission runs lib/ directly (scripts/server.ts).
  if (!values["redis-only"]) await ensureBuild({ distDir, reuseBuild: existsSync(path.join(ROOT, distDir, "BUILD_ID")) }, env);
  const crowd = values["redis-only"] ? [] : await mintSessions(await loadShoppers(shoppers), env.NEXTAUTH_SECRET!);

  const setMode = async (mode: Mode) => {
    await admin.config("SET", "appendfsync", mode === "always" ? "always" : "everysec");
    if (mode === "replica") {
      await replicaAdmin.replicaof("127.0.0.1", String(primary.port));
      const up = await waitFor(async () => /master_link_status:up/.test(await replicaAdmin.info("replication")), 60_000, 200);
      if (!up) throw new Error("the replica did not catch up with the primary");
    } else await replicaAdmin.replicaof("NO", "ONE");
  };

  for (let r = 1; r <= runs; r++) {
    for (const mode of modes) {
      log(`── ${mode}, run ${r} of ${runs}`);
      await setMode(mode);
      const redisOnly = await redisAlone(admin, primary.url, mode === "replica");
      if (values["redis-only"]) {
        const none = { admitted: 0, admittedPerSec: 0, p50: 0, p99: 0, errors: 0, unavailable: 0 };
        results.push({ mode, run: r, endToEnd: none, redisOnly });
        log(`   Redis alone ${redisOnly.perSec}/s (p50 ${redisOnly.p50} ms, p99 ${redisOnly.p99} ms)`);
        continue;
      }
      apps = new ChaosApps({ ...env, REDIS_WAIT_REPLICAS: mode === "replica" ? "1" : "0" }, baseUrl, ["durability-worker-1", "durability-worker-2"]);
      await apps.startAll();
      const a = await createBenchActivity(`durability-${mode}`, { stock: shoppers, limit: 1, leadMs: 1500 });
      await new Promise((res) => setTimeout(res, Math.max(0, a.startMs - Date.now())));
      const phase = await runBuyers({
        baseUrl,
        activityId: a.id,
        shoppers: crowd,
        order: crowd.map((_, i) => i),
        quantity: 1,
        connections: Number(values.connections),
        maxSeconds: 120,
      });
      await apps.stop();
      apps = undefined;
      const unavailable = Object.entries(phase.errors.unexpected)
        .filter(([k]) => k.includes("UNAVAILABLE"))
        .reduce((n, [, v]) => n + v, 0);
      const endToEnd = {
        admitted: phase.orders.admitted,
        admittedPerSec: phase.orders.admittedPerSec,
        p50: phase.orders.latency.p50,
        p99: phase.orders.latency.p99,
        errors: phase.errors.total,
        unavailable,
      };
      results.push({ mode, run: r, endToEnd, redisOnly });
      log(`   end to end ${endToEnd.admittedPerSec} admitted/s (p50 ${endToEnd.p50} ms, p99 ${endToEnd.p99} ms, ${endToEnd.errors} errors); Redis alone ${redisOnly.perSec}/s`);
      await retireBenchActivities([a.id]).catch(() => 0);
    }
  }
  await replicaAdmin.replicaof("NO", "ONE");
  admin.disconnect();
  replicaAdmin.disconnect();
} finally {
  // The process's shared connection (the activity helpers use it) closes before its Redis stops.
  redis().disconnect();
  await apps?.stop();
  for (const h of handles) await h.stop();
  await services.stop();
}

const summary = modes.map((mode) => {
  const mine = results.filter((x) => x.mode === mode);
  return {
    mode,
    admittedPerSec: median(mine.map((x) => x.endToEnd.admittedPerSec)),
    p50: median(mine.map((x) => x.endToEnd.p50)),
    p99: median(mine.map((x) => x.endToEnd.p99)),
    errors: mine.reduce((n, x) => n + x.endToEnd.errors, 0),
    redisPerSec: median(mine.map((x) => x.redisOnly.perSec)),
    redisP50: median(mine.map((x) => x.redisOnly.p50)),
    redisP99: median(mine.map((x) => x.redisOnly.p99)),
  };
});
const base = summary.find((s) => s.mode === "everysec") ?? summary[0]!;
const table = values["redis-only"]
  ? [
      "| Mode | Redis alone (admission Lua/s, 50 callers) | vs everysec | p50 / p99 |",
      "| --- | --- | --- | --- |",
      ...summary.map((s) => `| ${s.mode} | ${s.redisPerSec} | ${round(s.redisPerSec / base.redisPerSec, 2)}× | ${s.redisP50} / ${s.redisP99} ms |`),
    ].join("\n")
  : [
  "| Mode | Admitted/s end to end | vs everysec | Admission p50 / p99 | Redis alone (Lua/s) | vs everysec | Redis ÷ end to end |",
  "| --- | --- | --- | --- | --- | --- | --- |",
  ...summary.map(
    (s) =>
      `| ${s.mode} | ${s.admittedPerSec} | ${round(s.admittedPerSec / base.admittedPerSec, 2)}× | ${s.p50} / ${s.p99} ms | ${s.redisPerSec} | ${round(s.redisPerSec / base.redisPerSec, 2)}× | ${round(s.redisPerSec / s.admittedPerSec, 1)}× |`,
  ),
].join("\n");
const out = String(values.out ?? path.join(ROOT, "bench", "results", `durability-${new Date().toISOString().replace(/[:.]/g, "-")}.json`));
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    { at: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model }, options: { shoppers, runs, connections: Number(values.connections), postgres: values.postgres }, summary, results },
    null,
    2,
  ),
);
console.log(`\n${table}\n\n(${shoppers} shoppers per sale, median of ${runs} interleaved runs; results: ${path.relative(ROOT, out)})`);
process.exit(0);

/** The admission script alone: 50 callers on one auto-pipelined connection for 3 s (WAIT 1 after each with a replica). */
async function redisAlone(admin: Redis, url: string, wait: boolean) {
  const ref = startReference(admin, url, await freePort(Number(values.port) + 50));
  await ref.ready;
  const client = withScripts(new Redis(url, { enableAutoPipelining: true }));
  const lat: number[] = [];
  let user = 0;
  const end = Date.now() + 3000;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        const ticketId = newTicketId(ref.activityId, REFERENCE_EPOCH);
        await client.flashAdmit(...admissionKeys(ref.activityId, ticketId), `u${++user}`, 1, `k${user}`, Date.now(), ticketId, REFERENCE_EPOCH);
        if (wait) await client.wait(1, 1000);
        lat.push(performance.now() - t);
      }
    }),
  );
  client.disconnect();
  await ref.stop();
  lat.sort((x, y) => x - y);
  return { perSec: Math.round(lat.length / 3), p50: round(lat[Math.floor(lat.length / 2)] ?? 0, 2), p99: round(lat[Math.floor(lat.length * 0.99)] ?? 0, 2) };
}
