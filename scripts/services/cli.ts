// `npm run services`: start, stop or inspect the local services by hand (USAGE below).
import path from "node:path";
import { parseArgs } from "node:util";
import { asyncExitHook, gracefulExit } from "exit-hook";
import { DEFAULT_CLUSTER } from "./redis-cluster.js";
import { DEFAULT_DATA_DIR, cleanupStaleTestDirs, formatStartupError, ensureServices, stopDataDir } from "./index.js";
import { nativeUrl, readPostmaster } from "./native-pg.js";
import { findLivePglite, pgliteUrl } from "./pglite.js";
import { findLiveRedis, redisUrl } from "./redis.js";
import type { ServerState } from "./util.js";

const USAGE = `usage: npm run services -- up [--native|--pglite] [--redis-cluster [--replicas N]] [--only postgres|redis] [--data-dir DIR]
         starts (or reuses) the local services in the foreground, prints the URLs, stops them on Ctrl-C;
         --redis-cluster (or REDIS_MODE=cluster): a local 3-master Redis Cluster instead of one redis-server;
         --replicas N: N replicas per master (0-2, default 0), each promoted if its master dies
       npm run services -- down [--data-dir DIR]
         stops the servers recorded under the data dir (and leftovers of crashed test runs)
       npm run services -- status [--data-dir DIR]`;
const log = (line: string) => console.log(`[services] ${line}`);
const die = (err: unknown): never => {
  console.error(formatStartupError(err));
  process.exit(1);
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "data-dir": { type: "string" },
    native: { type: "boolean" },
    pglite: { type: "boolean" },
    "redis-cluster": { type: "boolean" },
    replicas: { type: "string" },
    only: { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
  },
});
const command = positionals[0];
const dataDir = path.resolve(values["data-dir"] ?? DEFAULT_DATA_DIR);

async function up() {
  const only = values.only?.flatMap((o) => o.split(",")) as ("postgres" | "redis")[] | undefined;
  for (const o of only ?? [])
    if (o !== "postgres" && o !== "redis") die(`--only: expected postgres or redis, got "${o}"`);
  const replicas = Number(values.replicas ?? 0);
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 2) die(`--replicas: expected 0, 1 or 2, got "${values.replicas}"`);
  if (replicas > 0 && !values["redis-cluster"]) die("--replicas: only with --redis-cluster");
  const launching = ensureServices({
    dataDir,
    postgres: values.native ? "native" : values.pglite ? "pglite" : undefined,
    redis: values["redis-cluster"] ? "cluster" : undefined,
    clusterShape: { ...DEFAULT_CLUSTER, replicas },
    only,
    log,
  });
  // Hooked before the start finishes, so a Ctrl-C during a first PGlite start leaves nothing behind.
  asyncExitHook(async () => (await launching.catch(() => null))?.stop(), { wait: 30_000 });
  const services = await launching.catch(die);

  const urls = { DATABASE_URL: services.databaseUrl, REDIS_URL: services.redisUrl };
  console.log(
    `\n${Object.entries(urls)
      .flatMap(([k, v]) => (v ? [`${k}=${v}`] : []))
      .join("\n")}\n`,
  );
  const started = services.servers.filter((s) => s.started);
  if (started.length === 0) log("nothing was started here (all reused or given by URL); Ctrl-C leaves them running");
  else
    log(
      `running ${started.map((s) => `${s.name} (pid ${s.pid})`).join(", ")}; Ctrl-C stops ${started.length > 1 ? "them" : "it"}`,
    );
  // If a server dies under us (or `down` stops it), stop the rest rather than pretend all is well.
  for (const s of started) {
    s.onExit(() => {
      log(`${s.name} (pid ${s.pid}) exited`);
      gracefulExit(1);
    });
  }
  setInterval(() => {}, 1 << 30); // stay in the foreground until a signal
}

async function down() {
  const n = (await stopDataDir(dataDir, log)) + (await cleanupStaleTestDirs(dataDir, log));
  if (n === 0) log(`nothing running under ${dataDir}`);
}

async function status() {
  const show = (name: string, st: ServerState | Error | null, url: (port: number) => string) => {
    const state = st instanceof Error ? st.message : st ? `pid ${st.pid}, ${url(st.port)}` : "not running";
    console.log(`${name}:`.padEnd(9) + state);
  };
  show("pglite", await findLivePglite(path.join(dataDir, "pglite")).catch((err: Error) => err), pgliteUrl);
  show("native", readPostmaster(path.join(dataDir, "postgres", "data")), nativeUrl);
  show("redis", await findLiveRedis(path.join(dataDir, "redis")).catch((err: Error) => err), redisUrl);
}

if (values.help || !command || !["up", "down", "status"].includes(command)) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
await (command === "up" ? up() : command === "down" ? down() : status()).catch(die);
