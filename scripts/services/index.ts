// Local services launcher: lets a fresh clone run with no configured servers.
//   ensureServices()  PostgreSQL + Redis for dev/demo/bench/CLI, reusing ones an earlier run left running
//   testServices()    private throwaway instances for the test suite
//   DATABASE_URL / REDIS_URL, when set, are used instead (after checking they answer).
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseSettings } from "../../lib/env.js";
import { ROOT } from "../lib/procs.js";
import { findPgBinDir, nativeUnavailable, startNativePostgres, stopNativeDir } from "./native-pg.js";
import { startPglite, stopPgliteDir } from "./pglite.js";
import { REDIS_MISSING, findRedisServer, startRedis, stopRedisDir } from "./redis.js";
import { DEFAULT_CLUSTER, startRedisCluster, stopRedisClusterDir, type ClusterShape } from "./redis-cluster.js";
import {
  StartupError,
  isPidAlive,
  maskUrl,
  pgPing,
  redisPing,
  shortReason,
  type Log,
  type ServerHandle,
} from "./util.js";

export interface Services {
  databaseUrl: string;
  redisUrl: string;
  /** The servers behind the URLs that this process found or started (the CLI and the bench look at them). */
  servers: ServerHandle[];
  /** Stops only the servers this call started; reused ones belong to whoever started them. */
  stop(): Promise<void>;
}

type PostgresMode = "pglite" | "native";

// Fixed ports when free, so URLs stay the same between runs; any free port otherwise.
const PREFERRED_PORT = { pglite: 54329, native: 54330, redis: 63790 } as const;

export const DEFAULT_DATA_DIR = path.join(ROOT, ".data");

const defaultLog: Log = (line) => console.log(`[services] ${line}`);

/** `fn` run at most once, however often the result is called. */
const once = (fn: () => Promise<void>) => {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
};

/** The given server after a SELECT 1 / PING with a 3 s timeout. */
async function checkUrl(name: string, url: string, ping: (url: string, ms: number) => Promise<void>): Promise<string> {
  await ping(url, 3000).catch((err: unknown) => {
    throw new StartupError(`${name}: cannot connect to ${maskUrl(url)} (${shortReason(err)})`);
  });
  return url;
}

/**
 * PostgreSQL and Redis URLs for this checkout. Uses DATABASE_URL / REDIS_URL when set; otherwise
 * starts (or reuses) embedded PGlite or a native cluster (`postgres`, default EMBEDDED_POSTGRES, else
 * PGlite), and a private redis-server, with data under `dataDir` (default <repo>/.data). Servers
 * started here keep running if this process exits without stop(), and the next call reuses them.
 * `ephemeral`: throwaway instances, with no fixed ports and no durability.
 * Failures are StartupErrors with a one-line message: see formatStartupError().
 */
export async function ensureServices(
  opts: {
    dataDir?: string;
    only?: ("postgres" | "redis")[];
    postgres?: PostgresMode;
    /** The Redis to start when REDIS_URL is unset: one server, or a local cluster (default REDIS_MODE). */
    redis?: "single" | "cluster";
    clusterShape?: ClusterShape;
    /** Start Redis even when REDIS_URL is set (the test suite's private cluster). */
    ignoreRedisUrl?: boolean;
    log?: Log;
    ephemeral?: boolean;
  } = {},
): Promise<Services> {
  const log = opts.log ?? defaultLog;
  const dataDir = path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR);
  const only = new Set(opts.only ?? ["postgres", "redis"]);
  // Typos (a malformed URL, EMBEDDED_POSTGRES=yes) and missing programs are reported before anything is started.
  const settings = parseSettings();
  const envDb = only.has("postgres") ? settings.DATABASE_URL : undefined;
  const envRedis = only.has("redis") && !opts.ignoreRedisUrl ? settings.REDIS_URL : undefined;
  const port = (p: number) => (opts.ephemeral ? undefined : p);
  const mode = only.has("postgres") && !envDb ? (opts.postgres ?? settings.EMBEDDED_POSTGRES ?? "pglite") : undefined;
  const startsRedis = only.has("redis") && !envRedis;
  const missing = [
    mode === "native" ? await nativeUnavailable() : null,
    startsRedis && !findRedisServer() ? REDIS_MISSING : null,
  ];
  if (missing.some(Boolean)) throw new StartupError(missing.filter(Boolean).join("; "));

  const start = (kind: "native" | "pglite" | "redis", subdir: string) => {
    const run = kind === "native" ? startNativePostgres : kind === "pglite" ? startPglite : startRedis;
    return run({
      dir: path.join(dataDir, subdir),
      preferredPort: port(PREFERRED_PORT[kind]),
      ephemeral: opts.ephemeral,
      log,
      appendfsync: settings.REDIS_APPENDFSYNC,
    });
  };
  const pgTask = async (): Promise<string | ServerHandle> => {
    if (envDb) return checkUrl("DATABASE_URL", envDb, pgPing);
    return mode ? start(mode, mode === "native" ? "postgres" : "pglite") : "";
  };
  const redisTask = async (): Promise<string | ServerHandle> => {
    if (envRedis) return checkUrl("REDIS_URL", envRedis, redisPing);
    if (!startsRedis) return "";
    if ((opts.redis ?? settings.REDIS_MODE) === "single") return start("redis", "redis");
    const dir = path.join(dataDir, "redis-cluster");
    return startRedisCluster({ dir, ephemeral: opts.ephemeral, log, shape: opts.clusterShape ?? DEFAULT_CLUSTER });
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
  return {
    databaseUrl: urlOf(results[0]),
    redisUrl: urlOf(results[1]),
    servers,
    stop: once(async () => {
      for (const s of [...servers].reverse())
        await s.stop().catch((err) => log(`${s.name}: stop failed: ${formatStartupError(err)}`));
    }),
  };
}

/**
 * Services for the test suite: DATABASE_URL / REDIS_URL when set, else private instances in a fresh
 * <repo>/.data/test-<pid>-<random> directory that stop() deletes, so tests never touch demo data.
 * Postgres is native when initdb/pg_ctl exist (real multi-process concurrency, faster), else PGlite;
 * EMBEDDED_POSTGRES=pglite|native overrides. Instances die with this process even without stop().
 */
export async function testServices(): Promise<Services> {
  const log = () => {};
  await cleanupStaleTestDirs(DEFAULT_DATA_DIR, log);
  const { DATABASE_URL, REDIS_URL, EMBEDDED_POSTGRES } = parseSettings();
  if (DATABASE_URL && REDIS_URL) return ensureServices({ log });

  const { dir, removeDir } = testDir();
  const launch = (postgres: PostgresMode) =>
    ensureServices({ dataDir: dir, postgres, log, ephemeral: true, redis: "single" });
  let launched: Services;
  try {
    launched = await launch(EMBEDDED_POSTGRES ?? (findPgBinDir() ? "native" : "pglite")).catch((err: unknown) => {
      // Native was only preferred, not asked for: where it cannot run (e.g. the postgres user cannot
      // reach a checkout under a private directory), the embedded PGlite still can.
      if (EMBEDDED_POSTGRES || !findPgBinDir()) throw err;
      console.error(`[services] ${formatStartupError(err)}; using embedded PGlite instead`);
      return launch("pglite");
    });
  } catch (err) {
    removeDir();
    throw err;
  }
  return tiedToProcess(launched, removeDir);
}

/** A private throwaway Redis Cluster for the test suite's cluster pass (always started, whatever REDIS_URL says). */
export async function testRedisCluster(shape: ClusterShape = DEFAULT_CLUSTER): Promise<Services> {
  const { dir, removeDir } = testDir();
  try {
    const launched = await ensureServices({
      dataDir: dir,
      only: ["redis"],
      log: () => {},
      ephemeral: true,
      redis: "cluster",
      clusterShape: shape,
      ignoreRedisUrl: true,
    });
    return tiedToProcess(launched, removeDir);
  } catch (err) {
    removeDir();
    throw err;
  }
}

function testDir() {
  const dir = path.join(DEFAULT_DATA_DIR, `test-${process.pid}-${randomBytes(3).toString("hex")}`);
  return { dir, removeDir: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A test run that ends without stop() (failed setup, process.exit) still takes its servers along. */
function tiedToProcess(launched: Services, removeDir: () => void): Services {
  const onExit = () => {
    for (const s of launched.servers) s.killNow();
    removeDir();
  };
  process.once("exit", onExit);
  const stop = once(async () => {
    process.off("exit", onExit);
    await launched.stop();
    removeDir();
  });
  return { ...launched, stop };
}

/** Stops servers and deletes test-<pid>-* directories whose test process is gone (e.g. after a SIGKILL). */
export async function cleanupStaleTestDirs(root: string, log: Log): Promise<number> {
  const stale = (fs.existsSync(root) ? fs.readdirSync(root) : []).filter((name) => {
    const pid = Number(/^test-(\d+)-/.exec(name)?.[1] ?? 0);
    return pid > 0 && pid !== process.pid && !isPidAlive(pid);
  });
  for (const name of stale) {
    const dir = path.join(root, name);
    await stopDataDir(dir, log);
    fs.rmSync(dir, { recursive: true, force: true });
    log(`removed stale test directory ${dir}`);
  }
  return stale.length;
}

/** Stops every server recorded under a data directory, whoever started it. Returns how many were running. */
export async function stopDataDir(dataDir: string, log: Log): Promise<number> {
  const stopped = await Promise.all([
    stopPgliteDir(path.join(dataDir, "pglite"), log),
    stopNativeDir(path.join(dataDir, "postgres"), log),
    stopRedisDir(path.join(dataDir, "redis"), log),
    stopRedisClusterDir(path.join(dataDir, "redis-cluster"), log),
  ]);
  return stopped.filter(Boolean).length;
}

/** The one line to show for a startup failure (no stack trace). */
export function formatStartupError(err: unknown): string {
  if (err instanceof StartupError || (err instanceof Error && err.name === "EnvError")) return err.message;
  if (err instanceof Error) return `${err.name === "Error" ? "" : `${err.name}: `}${err.message.split("\n")[0]}`;
  return String(err).split("\n")[0] ?? "";
}
