// Native PostgreSQL (for benchmarks and tests): a private cluster under <dataDir>/postgres run with the
// distribution's initdb/pg_ctl. PostgreSQL refuses to run as root, so as root every command goes
// through `runuser -u postgres --` and the directory is handed to that user.
import fs from "node:fs";
import path from "node:path";
import getPort from "get-port";
import { x } from "tinyexec";
import which from "which";
import {
  StartupError,
  isPidAlive,
  pgPing,
  serverHandle,
  fulfils,
  shortReason,
  tailFile,
  stopPid,
  waitFor,
  withStartLock,
  type Log,
  type ServerState,
  type StartOptions,
} from "./util.js";

const NATIVE_MISSING =
  `native postgres: initdb/pg_ctl not found in PATH or /usr/lib/postgresql/*/bin: ` +
  `install it with "apt-get install -y postgresql" (or use EMBEDDED_POSTGRES=pglite, or set DATABASE_URL)`;

/** The bin directory of one installation with initdb, pg_ctl and postgres (pg_ctl starts the postgres next to itself). */
export function findPgBinDir(): string | null {
  const onPath = which.sync("initdb", { nothrow: true });
  const versions = fs.existsSync("/usr/lib/postgresql") ? fs.readdirSync("/usr/lib/postgresql") : [];
  const dirs = [
    ...(onPath ? [path.dirname(fs.realpathSync(onPath))] : []), // /usr/local/bin/initdb is often a symlink
    ...versions.sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`),
  ];
  const complete = (dir: string) =>
    ["initdb", "pg_ctl", "postgres"].every((n) => which.sync(n, { nothrow: true, path: dir }));
  return dirs.find(complete) ?? null;
}

const isRoot = () => process.getuid?.() === 0;

/** Why native postgres cannot run here, or null when it can: checked before anything is started. */
export async function nativeUnavailable(): Promise<string | null> {
  if (!findPgBinDir()) return NATIVE_MISSING;
  if (!isRoot()) return null;
  if (!which.sync("runuser", { nothrow: true, path: `${process.env.PATH}:/usr/sbin:/sbin` }))
    return "native postgres: running as root needs runuser (util-linux) to drop to the postgres user";
  if ((await x("id", ["postgres"])).exitCode !== 0)
    return `native postgres: running as root needs a "postgres" user (apt-get install -y postgresql creates it)`;
  return null;
}

/** Runs a PostgreSQL tool (as the postgres user when we are root); rejects with its last output lines. */
async function asPostgres(bin: string, args: string[]): Promise<void> {
  const [cmd, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  // Own process group, so a Ctrl-C at the terminal reaches the launcher, which stops things in order.
  const r = await x(cmd, argv, { timeout: 120_000, nodeOptions: { detached: true } });
  if (r.exitCode !== 0)
    throw new Error(`${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-2).join(" | ") || `${bin} failed`);
}

export const nativeUrl = (port: number) => `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`;

/** pid and port of a running postmaster, from postmaster.pid. */
export function readPostmaster(pgdata: string): ServerState | null {
  const file = path.join(pgdata, "postmaster.pid");
  const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n") : [];
  const [pid, port] = [Number(lines[0]), Number(lines[3])];
  return isPidAlive(pid) && port > 0 ? { pid, port } : null;
}

async function stopCluster(pgdata: string, pid: number, log: Log, where = ""): Promise<void> {
  const binDir = findPgBinDir();
  try {
    if (!binDir) throw new Error("pg_ctl not found");
    await asPostgres(path.join(binDir, "pg_ctl"), ["-D", pgdata, "stop", "-m", "fast", "-w", "-t", "60"]);
    log(`postgres: stopped pid ${pid}${where}`);
  } catch (err) {
    log(`postgres: pg_ctl stop failed (${shortReason(err)}), signalling pid ${pid}`);
    await stopPid("postgres", pid, 30_000, log, where);
  }
}

export async function startNativePostgres({ dir, preferredPort, ephemeral, log }: StartOptions) {
  const binDir = findPgBinDir();
  if (!binDir) throw new StartupError(NATIVE_MISSING);
  const pgdata = path.join(dir, "data");
  const logFile = path.join(dir, "postgres.log");
  const handle = (st: ServerState, started: boolean) =>
    serverHandle({ name: "postgres", url: nativeUrl(st.port), ...st, started }, () => stopCluster(pgdata, st.pid, log));
  return withStartLock(dir, "postgres", log, async () => {
    const live = readPostmaster(pgdata);
    if (live) {
      await pgPing(nativeUrl(live.port), 5000).catch((err) => {
        const why = `postmaster pid ${live.pid} runs ${pgdata} but does not answer on port ${live.port}`;
        throw new StartupError(`postgres: ${why} (${shortReason(err)})`);
      });
      log(`postgres: reusing server pid ${live.pid} on port ${live.port}`);
      return handle(live, false);
    }
    if (isRoot()) {
      const why = await nativeUnavailable();
      if (why) throw new StartupError(why);
      await x("chown", ["-R", "postgres:postgres", dir], { throwOnError: true });
      // The postgres user must also be able to reach the directory through its parents.
      await asPostgres("/bin/sh", ["-c", 'test -w "$1"', "sh", dir]).catch(() => {
        throw new StartupError(`native postgres: user postgres cannot write ${dir} (check its parent directories)`);
      });
    }
    const t0 = Date.now();
    if (!fs.existsSync(path.join(pgdata, "PG_VERSION"))) {
      log(`postgres: initdb ${pgdata} (${binDir})`);
      const args = ["-D", pgdata, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions"];
      await asPostgres(path.join(binDir, "initdb"), ephemeral ? [...args, "--no-sync"] : args).catch((err) => {
        throw new StartupError(`postgres: initdb failed: ${shortReason(err)}`);
      });
    }
    for (let attempt = 0; ; attempt++) {
      const port = await getPort({ port: attempt === 0 ? preferredPort : undefined, host: "127.0.0.1" });
      // Sockets go in the data dir, away from the system server's /var/run/postgresql; the path must fit sun_path.
      const sockDir = path.join(pgdata, `.s.PGSQL.${port}`).length < 100 ? pgdata : "";
      const settings = [
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='${sockDir}' -c max_connections=200`,
        // Test clusters are thrown away: durability only costs time there.
        ...(ephemeral ? ["-c fsync=off -c synchronous_commit=off -c full_page_writes=off"] : []),
      ].join(" ");
      const startArgs = ["-D", pgdata, "-l", logFile, "-w", "-t", "60", "-o", settings, "start"];
      try {
        await asPostgres(path.join(binDir, "pg_ctl"), startArgs);
      } catch (err) {
        const why = tailFile(logFile, 2);
        if (/could not bind|address already in use/i.test(why) && attempt < 3) continue;
        throw new StartupError(`postgres: pg_ctl start failed: ${why || shortReason(err)} (log: ${logFile})`);
      }
      const st = readPostmaster(pgdata);
      if (!st) throw new StartupError(`postgres: started but ${pgdata}/postmaster.pid is missing (log: ${logFile})`);
      await waitFor(() => fulfils(pgPing(nativeUrl(st.port), 2000)), 30_000, 200);
      log(`postgres: started pid ${st.pid} on port ${st.port} in ${Date.now() - t0} ms`);
      return handle(st, true);
    }
  });
}

/** Stops the cluster in `dir` if it runs (cli down, stale test dirs). */
export async function stopNativeDir(dir: string, log: Log): Promise<boolean> {
  const live = readPostmaster(path.join(dir, "data"));
  if (live) await stopCluster(path.join(dir, "data"), live.pid, log, ` (${dir})`);
  return live !== null;
}
