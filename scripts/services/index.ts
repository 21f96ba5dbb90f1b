// Local services launcher: lets a fresh clone run with no configured servers.
//   ensureServices()  PostgreSQL + Redis for dev/demo, reusing ones an earlier run left running
//   testServices()    private throwaway instances for the test suite
//   DATABASE_URL / REDIS_URL, when set, are used instead (after checking they answer).
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { findPgBins, nativeUnavailable, startNativePostgres, stopNativeDir } from "./native-pg.js";
import { startPglite, stopPgliteDir } from "./pglite.js";
import { REDIS_MISSING, findRedisServer, startRedis, stopRedisDir } from "./redis.js";
import {
  REPO_ROOT,
  StartupError,
  abortStarting,
  isPidAlive,
  maskUrl,
  pgPing,
  redisPing,
  shortReason,
  type Log,
  type ServerHandle,
} from "./util.js";

export { StartupError, type ServerHandle };

export interface Services {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

export type PostgresMode = "pglite" | "native";

export interface EnsureServicesOptions {
  /** default <repo>/.data */
  dataDir?: string;
  /** default both */
  only?: ("postgres" | "redis")[];
  /** default from env EMBEDDED_POSTGRES, else "pglite" */
  postgres?: PostgresMode;
  /** default: console.log with a "[services]" prefix */
  log?: (line: string) => void;
}

/** What launchServices() returns: Services plus the servers behind it (for the CLI). */
export interface LaunchedServices extends Services {
  servers: ServerHandle[];
}

interface LaunchOptions extends EnsureServicesOptions {
  /** Throwaway instance: no fixed ports, no durability, tied to this process. */
  ephemeral?: boolean;
}

// Fixed ports when free, so URLs stay the same between runs; any free port otherwise.
const PREFERRED_PORT = { pglite: 54329, native: 54330, redis: 63790 } as const;

export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, ".data");

const defaultLog: Log = (line) => console.log(`[services] ${line}`);

/** EMBEDDED_POSTGRES: "pglite" | "native" (also 1/true/yes = pglite, 0/false/no = native). */
export function postgresModeFromEnv(value = process.env.EMBEDDED_POSTGRES): PostgresMode | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if (["pglite", "1", "true", "yes", "embedded"].includes(v)) return "pglite";
  if (["native", "0", "false", "no"].includes(v)) return "native";
  throw new StartupError(`EMBEDDED_POSTGRES: expected "pglite" or "native", got "${value}"`);
}

function validateUrl(name: string, url: string, schemes: string[]): void {
  let scheme = "";
  try {
    scheme = new URL(url).protocol.replace(/:$/, "");
  } catch {
    throw new StartupError(`${name}: not a valid URL: ${maskUrl(url)}`);
  }
  if (!schemes.includes(scheme))
    throw new StartupError(`${name}: expected a ${schemes.join("/")}:// URL, got ${maskUrl(url)}`);
}

const PG_SCHEMES = ["postgres", "postgresql"];
const REDIS_SCHEMES = ["redis", "rediss"];

async function checkUrl(
  name: string,
  url: string,
  schemes: string[],
  ping: (url: string, ms: number) => Promise<void>,
): Promise<string> {
  validateUrl(name, url, schemes);
  try {
    await ping(url, 3000);
  } catch (err) {
    throw new StartupError(`${name}: cannot connect to ${maskUrl(url)} (${shortReason(err)})`);
  }
  return url;
}

/** ensureServices() plus internals; exported for the CLI. */
export async function launchServices(opts: LaunchOptions = {}): Promise<LaunchedServices> {
  const log = opts.log ?? defaultLog;
  const dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
  const only = new Set(opts.only ?? ["postgres", "redis"]);
  const envDb = process.env.DATABASE_URL?.trim() || undefined;
  const envRedis = process.env.REDIS_URL?.trim() || undefined;
  const port = (p: number) => (opts.ephemeral ? undefined : p);
  const parentPid = opts.ephemeral ? process.pid : undefined;
  const startPg = only.has("postgres") && !envDb;
  const startRedisServer = only.has("redis") && !envRedis;
  const mode = startPg ? (opts.postgres ?? postgresModeFromEnv() ?? "pglite") : undefined;
  // Typos and missing programs are reported before anything is started.
  if (only.has("postgres") && envDb) validateUrl("DATABASE_URL", envDb, PG_SCHEMES);
  if (only.has("redis") && envRedis) validateUrl("REDIS_URL", envRedis, REDIS_SCHEMES);
  const missing = [
    mode === "native" ? nativeUnavailable() : null,
    startRedisServer && !findRedisServer() ? REDIS_MISSING : null,
  ];
  if (missing.some(Boolean)) throw new StartupError(missing.filter(Boolean).join("; "));

  const pgTask = async (): Promise<string | ServerHandle> => {
    if (!only.has("postgres")) return envDb ?? "";
    if (!startPg) return checkUrl("DATABASE_URL", envDb!, PG_SCHEMES, pgPing);
    return mode === "native"
      ? startNativePostgres({
          dir: path.join(dataDir, "postgres"),
          preferredPort: port(PREFERRED_PORT.native),
          ephemeral: opts.ephemeral,
          log,
        })
      : startPglite({ dir: path.join(dataDir, "pglite"), preferredPort: port(PREFERRED_PORT.pglite), parentPid, log });
  };
  const redisTask = async (): Promise<string | ServerHandle> => {
    if (!only.has("redis")) return envRedis ?? "";
    if (!startRedisServer) return checkUrl("REDIS_URL", envRedis!, REDIS_SCHEMES, redisPing);
    return startRedis({
      dir: path.join(dataDir, "redis"),
      preferredPort: port(PREFERRED_PORT.redis),
      ephemeral: opts.ephemeral,
      log,
    });
  };

  // Both at once: a first PGlite start takes seconds, redis milliseconds.
  const results = await Promise.allSettled([pgTask(), redisTask()]);
  const servers = results.flatMap((r) => (r.status === "fulfilled" && typeof r.value !== "string" ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === "rejected" ? [formatStartupError(r.reason)] : []));
  if (failures.length) {
    // Don't leave half a setup running behind an error.
    await Promise.allSettled(servers.map((s) => s.stop()));
    throw new StartupError(failures.join("; "));
  }
  const urlOf = (r: (typeof results)[number]) =>
    r.status === "fulfilled" ? (typeof r.value === "string" ? r.value : r.value.url) : "";

  let stopping: Promise<void> | undefined;
  return {
    databaseUrl: urlOf(results[0]),
    redisUrl: urlOf(results[1]),
    servers,
    stop() {
      // Only servers this call started; reused ones belong to whoever started them.
      stopping ??= (async () => {
        for (const s of [...servers].reverse()) {
          await s.stop().catch((err) => log(`${s.name}: stop failed: ${formatStartupError(err)}`));
        }
      })();
      return stopping;
    },
  };
}

/**
 * PostgreSQL and Redis URLs for this checkout. Uses DATABASE_URL / REDIS_URL when set (after a
 * SELECT 1 / PING with a 3s timeout); otherwise starts (or reuses) embedded PGlite or a native
 * cluster, and a private redis-server, with data under `dataDir`. Servers started here keep running
 * if this process exits without stop(), and the next call reuses them.
 * Failures are StartupErrors with a one-line message: see formatStartupError().
 */
export async function ensureServices(opts: EnsureServicesOptions = {}): Promise<Services> {
  return launchServices(opts);
}

/**
 * Services for the test suite: DATABASE_URL / REDIS_URL when set, else private instances in a fresh
 * <repo>/.data/test-<pid>-<random> directory that stop() deletes, so tests never touch demo data.
 * Postgres is native when initdb/pg_ctl exist (real multi-process concurrency, faster), else PGlite;
 * EMBEDDED_POSTGRES=pglite|native overrides. Instances die with this process even without stop().
 */
export async function testServices(opts: { log?: Log } = {}): Promise<Services> {
  const log = opts.log ?? (() => {});
  await cleanupStaleTestDirs(DEFAULT_DATA_DIR, log);
  if (process.env.DATABASE_URL && process.env.REDIS_URL) return launchServices({ log });

  const dir = path.join(DEFAULT_DATA_DIR, `test-${process.pid}-${randomBytes(3).toString("hex")}`);
  const postgres = postgresModeFromEnv() ?? (findPgBins() ? "native" : "pglite");
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  let launched: LaunchedServices;
  try {
    launched = await launchServices({ dataDir: dir, postgres, log, ephemeral: true });
  } catch (err) {
    // Native was only preferred, not asked for: where it cannot run (e.g. the postgres user cannot
    // reach a checkout under a private directory), the embedded PGlite still can.
    if (postgres !== "native" || postgresModeFromEnv()) {
      removeDir();
      throw err;
    }
    console.error(`[services] ${formatStartupError(err)}; using embedded PGlite instead`);
    try {
      launched = await launchServices({ dataDir: dir, postgres: "pglite", log, ephemeral: true });
    } catch (err2) {
      removeDir();
      throw err2;
    }
  }
  // A test run that ends without stop() (failed setup, process.exit) still takes its servers along.
  const onExit = () => {
    for (const s of launched.servers) s.killNow(true);
    try {
      removeDir();
    } catch {
      /* left for cleanupStaleTestDirs */
    }
  };
  process.once("exit", onExit);
  let stopping: Promise<void> | undefined;
  return {
    databaseUrl: launched.databaseUrl,
    redisUrl: launched.redisUrl,
    stop() {
      stopping ??= (async () => {
        process.off("exit", onExit);
        await launched.stop();
        removeDir();
      })();
      return stopping;
    },
  };
}

/** Stops servers and deletes test-<pid>-* directories whose test process is gone (e.g. after a SIGKILL). */
export async function cleanupStaleTestDirs(root: string = DEFAULT_DATA_DIR, log: Log = defaultLog): Promise<number> {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(/^test-(\d+)-/.exec(name)?.[1] ?? 0);
    if (!pid || pid === process.pid || isPidAlive(pid)) continue;
    const dir = path.join(root, name);
    await stopDataDir(dir, log);
    fs.rmSync(dir, { recursive: true, force: true });
    log(`removed stale test directory ${dir}`);
    removed++;
  }
  return removed;
}

/** Stops every server recorded under a data directory, whoever started it. Returns how many were running. */
export async function stopDataDir(dataDir: string = DEFAULT_DATA_DIR, log: Log = defaultLog): Promise<number> {
  const stopped = await Promise.all([
    stopPgliteDir(path.join(dataDir, "pglite"), log),
    stopNativeDir(path.join(dataDir, "postgres"), log),
    stopRedisDir(path.join(dataDir, "redis"), log),
  ]);
  return stopped.filter(Boolean).length;
}

/** The one line to show for a startup failure (no stack trace). */
export function formatStartupError(err: unknown): string {
  if (err instanceof StartupError) return err.message;
  if (err instanceof Error) return `${err.name === "Error" ? "" : `${err.name}: `}${err.message.split("\n")[0]}`;
  return String(err).split("\n")[0] ?? "";
}

/** Prints formatStartupError(err) to stderr and exits 1: for CLIs' catch blocks. */
export function exitWithStartupError(err: unknown): never {
  console.error(formatStartupError(err));
  process.exit(1);
}

/** A stop function, anything with stop() (e.g. Services), or a promise of one (e.g. a pending ensureServices()). */
export type Stoppable = (() => unknown) | { stop(): unknown } | PromiseLike<{ stop(): unknown }>;

let shuttingDown: Promise<never> | undefined;

/** True once installShutdownHandlers' shutdown has begun (e.g. to skip error output for an interrupted start). */
export function isShuttingDown(): boolean {
  return shuttingDown !== undefined;
}

/**
 * On SIGINT/SIGTERM/SIGHUP runs the stop functions once, in order (list app processes before the
 * services they use), then exits: 0 after a clean stop, 1 if one failed or all took over `timeoutMs`.
 * Install it before starting anything: a signal during startup kills servers that are still coming
 * up and waits for pending promises so nothing is orphaned. Repeated signals while stopping are
 * ignored. The array is read at shutdown time, so callers may push to it later. Returns the same
 * shutdown path for callers to trigger (e.g. when a child dies).
 */
export function installShutdownHandlers(
  stoppables: Stoppable[],
  opts: { log?: Log; timeoutMs?: number } = {},
): (reason?: string, exitCode?: number) => Promise<never> {
  const log = opts.log ?? defaultLog;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const shutdown = (reason = "shutdown", exitCode = 0): Promise<never> => {
    shuttingDown ??= (async () => {
      log(`${reason}: stopping`);
      const timer = setTimeout(() => {
        log(`still stopping after ${timeoutMs / 1000}s, exiting anyway`);
        process.exit(1);
      }, timeoutMs);
      abortStarting();
      let code = exitCode;
      for (const s of stoppables) {
        try {
          if (typeof s === "function") await s();
          else if ("stop" in s) await s.stop();
          else await (await Promise.resolve(s).catch(() => null))?.stop(); // a start that failed cleaned up after itself
        } catch (err) {
          log(`stop failed: ${formatStartupError(err)}`);
          code = code || 1;
        }
      }
      clearTimeout(timer);
      process.exit(code);
    })();
    return shuttingDown;
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      if (shuttingDown) log(`${sig}: already stopping`);
      void shutdown(sig);
    });
  }
  return shutdown;
}
