// npm run services -- up [--native|--pglite] [--only postgres|redis] [--data-dir DIR]
//   Starts (or reuses) the local services in the foreground, prints the URLs, stops them on Ctrl-C.
// npm run services -- down [--data-dir DIR]
//   Stops the servers recorded under the data dir (and leftovers of crashed test runs).
// npm run services -- status [--data-dir DIR]
import path from "node:path";
import { parseArgs } from "node:util";
import { asyncExitHook, gracefulExit } from "exit-hook";
import { DEFAULT_DATA_DIR, cleanupStaleTestDirs, formatStartupError, launchServices, stopDataDir } from "./index.js";
import { readPostmaster } from "./native-pg.js";
import { findLivePglite } from "./pglite.js";
import { isPidAlive, readJson } from "./util.js";

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
    only: { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
  },
});
const command = positionals[0];
const dataDir = path.resolve(values["data-dir"] ?? DEFAULT_DATA_DIR);

async function up() {
  const only = values.only?.flatMap((o) => o.split(",")) as ("postgres" | "redis")[] | undefined;
  for (const o of only ?? []) if (o !== "postgres" && o !== "redis") die(`--only: expected postgres or redis, got "${o}"`);
  const launching = launchServices({ dataDir, postgres: values.native ? "native" : values.pglite ? "pglite" : undefined, only, log });
  // Hooked before the start finishes, so a Ctrl-C during a first PGlite start leaves nothing behind.
  asyncExitHook(() => launching.then((s) => s.stop(), () => {}), { wait: 30_000 });
  const services = await launching.catch(die);

  const urls = Object.entries({ DATABASE_URL: services.databaseUrl, REDIS_URL: services.redisUrl }).filter(([, v]) => v);
  console.log(`\n${urls.map(([k, v]) => `${k}=${v}`).join("\n")}\n`);
  const started = services.servers.filter((s) => s.started);
  if (started.length === 0) log("nothing was started here (all reused or given by URL); Ctrl-C leaves them running");
  else log(`running ${started.map((s) => `${s.name} (pid ${s.pid})`).join(", ")}; Ctrl-C stops ${started.length > 1 ? "them" : "it"}`);
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
  const pglite = await findLivePglite(path.join(dataDir, "pglite")).catch((err: Error) => err);
  const native = readPostmaster(path.join(dataDir, "postgres", "data"));
  const redis = readJson<{ pid: number; port: number }>(path.join(dataDir, "redis", "server.json"));
  const pgliteLine = pglite instanceof Error ? pglite.message : pglite && `pid ${pglite.pid}, postgresql://postgres:postgres@127.0.0.1:${pglite.port}/postgres`;
  console.log(`pglite:  ${pgliteLine || "not running"}`);
  console.log(`native:  ${native ? `pid ${native.pid}, postgresql://postgres@127.0.0.1:${native.port}/postgres` : "not running"}`);
  console.log(`redis:   ${redis && isPidAlive(redis.pid, "redis-server") ? `pid ${redis.pid}, redis://127.0.0.1:${redis.port}` : "not running"}`);
}

if (values.help || !command || !["up", "down", "status"].includes(command)) {
  console.log("usage: npm run services -- up [--native|--pglite] [--only postgres|redis] [--data-dir DIR]");
  console.log("       npm run services -- down|status [--data-dir DIR]");
  process.exit(values.help ? 0 : 2);
}
await (command === "up" ? up() : command === "down" ? down() : status()).catch(die);
