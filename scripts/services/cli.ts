// tsx scripts/services/cli.ts up [--native|--pglite] [--only postgres|redis] [--data-dir DIR]
//   Starts (or reuses) the local services in the foreground, prints the URLs, stops them on Ctrl-C.
// tsx scripts/services/cli.ts down [--data-dir DIR]
//   Stops the servers recorded under the data dir (and leftovers of crashed test runs).
// tsx scripts/services/cli.ts status [--data-dir DIR]
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  DEFAULT_DATA_DIR,
  cleanupStaleTestDirs,
  exitWithStartupError,
  installShutdownHandlers,
  isShuttingDown,
  launchServices,
  stopDataDir,
  type PostgresMode,
} from "./index.js";
import { findLivePglite } from "./pglite.js";
import { isPidAlive, readJson } from "./util.js";

const log = (line: string) => console.log(`[services] ${line}`);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "data-dir": { type: "string" },
    native: { type: "boolean" },
    pglite: { type: "boolean" },
    only: { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
  },
});
const command = positionals[0];
const dataDir = path.resolve(values["data-dir"] ?? DEFAULT_DATA_DIR);

async function up() {
  const postgres: PostgresMode | undefined = values.native ? "native" : values.pglite ? "pglite" : undefined;
  const only = values.only?.flatMap((o) => o.split(",")) as ("postgres" | "redis")[] | undefined;
  for (const o of only ?? [])
    if (o !== "postgres" && o !== "redis") exitWithStartupError(`--only: expected postgres or redis, got "${o}"`);
  // Handlers first, so a Ctrl-C while a first PGlite start is still running leaves nothing behind.
  const launching = launchServices({ dataDir, postgres, only, log });
  const shutdown = installShutdownHandlers([launching], { log });
  const services = await launching.catch((err) =>
    isShuttingDown() ? new Promise<never>(() => {}) : exitWithStartupError(err),
  );

  console.log("");
  if (services.databaseUrl) console.log(`DATABASE_URL=${services.databaseUrl}`);
  if (services.redisUrl) console.log(`REDIS_URL=${services.redisUrl}`);
  console.log("");
  const started = services.servers.filter((s) => s.started);
  if (started.length === 0) log("nothing was started here (all reused or given by URL); Ctrl-C leaves them running");
  else
    log(
      `running ${started.map((s) => `${s.name} (pid ${s.pid})`).join(", ")}; Ctrl-C stops ${started.length > 1 ? "them" : "it"}`,
    );

  // If a server dies under us (or `down` stops it), stop the rest rather than pretend all is well.
  for (const s of started) {
    s.onExit((code) => {
      log(`${s.name} (pid ${s.pid}) exited${code === null ? "" : ` with code ${code}`}`);
      void shutdown(`${s.name} exited`, code === 0 ? 0 : 1);
    });
  }
  setInterval(() => {}, 1 << 30); // stay in the foreground until a signal
}

async function down() {
  const n = await stopDataDir(dataDir, log);
  const stale = await cleanupStaleTestDirs(dataDir, log);
  if (n + stale === 0) log(`nothing running under ${dataDir}`);
}

async function status() {
  const pglite = await findLivePglite(path.join(dataDir, "pglite")).catch((err: Error) => err);
  console.log(
    "pglite:  " +
      (pglite instanceof Error
        ? pglite.message
        : pglite
          ? `pid ${pglite.pid}, postgresql://postgres:postgres@127.0.0.1:${pglite.port}/postgres`
          : "not running"),
  );
  let native = "not running";
  try {
    const lines = fs.readFileSync(path.join(dataDir, "postgres", "data", "postmaster.pid"), "utf8").split("\n");
    if (isPidAlive(Number(lines[0]))) native = `pid ${lines[0]}, postgresql://postgres@127.0.0.1:${lines[3]}/postgres`;
  } catch {
    /* no cluster */
  }
  console.log(`native:  ${native}`);
  const redis = readJson<{ pid: number; port: number }>(path.join(dataDir, "redis", "server.json"));
  console.log(
    `redis:   ${redis && isPidAlive(redis.pid) ? `pid ${redis.pid}, redis://127.0.0.1:${redis.port}` : "not running"}`,
  );
}

if (values.help || !command || !["up", "down", "status"].includes(command)) {
  console.log("usage: tsx scripts/services/cli.ts up [--native|--pglite] [--only postgres|redis] [--data-dir DIR]");
  console.log("       tsx scripts/services/cli.ts down|status [--data-dir DIR]");
  process.exit(values.help ? 0 : 2);
}
await (command === "up" ? up() : command === "down" ? down() : status()).catch(exitWithStartupError);
