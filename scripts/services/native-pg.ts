// Native PostgreSQL (for benchmarks and tests): a private cluster under <dataDir>/postgres run with the
// distribution's initdb/pg_ctl. PostgreSQL refuses to run as root, so as root every command goes
// through `runuser -u postgres --` and the directory is handed to that user.
import fs from "node:fs";
import path from "node:path";
import {
  StartupError,
  findExecutable,
  isPidAlive,
  isPidGone,
  pgPing,
  pickPort,
  run,
  shortReason,
  tailFile,
  waitFor,
  withStartLock,
  type Log,
  type ServerHandle,
  serverHandle,
} from "./util.js";

export const NATIVE_MISSING =
  `native postgres: initdb/pg_ctl not found in PATH or /usr/lib/postgresql/*/bin: ` +
  `install it with "apt-get install -y postgresql" (or use EMBEDDED_POSTGRES=pglite, or set DATABASE_URL)`;

export interface PgBins {
  binDir: string;
  initdb: string;
  pgCtl: string;
}

/** initdb, pg_ctl and postgres from one installation (pg_ctl starts the postgres next to itself). */
export function findPgBins(): PgBins | null {
  const dirs: string[] = [];
  const onPath = findExecutable("initdb");
  if (onPath) dirs.push(path.dirname(fs.realpathSync(onPath))); // /usr/local/bin/initdb is often a symlink
  try {
    const versions = fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(path.join("/usr/lib/postgresql", v, "bin"));
  } catch {
    /* no Debian-style install */
  }
  for (const binDir of dirs) {
    const exe = (n: string) => {
      try {
        fs.accessSync(path.join(binDir, n), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    };
    if (exe("initdb") && exe("pg_ctl") && exe("postgres")) {
      return { binDir, initdb: path.join(binDir, "initdb"), pgCtl: path.join(binDir, "pg_ctl") };
    }
  }
  return null;
}

const isRoot = () => process.getuid?.() === 0;

const runuserPath = () => findExecutable("runuser", ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);

/** uid/gid of the postgres user, from /etc/passwd (no dependency on PATH). */
function postgresUser(): { uid: number; gid: number } | null {
  try {
    const line = fs
      .readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith("postgres:"));
    const [, , uid, gid] = line?.split(":") ?? [];
    return uid && gid ? { uid: Number(uid), gid: Number(gid) } : null;
  } catch {
    return null;
  }
}

/** Why native postgres cannot run here, or null when it can: checked before anything is started. */
export function nativeUnavailable(): string | null {
  if (!findPgBins()) return NATIVE_MISSING;
  if (!isRoot()) return null;
  if (!runuserPath()) return "native postgres: running as root needs runuser (util-linux) to drop to the postgres user";
  if (!postgresUser())
    return `native postgres: running as root needs a "postgres" user (apt-get install -y postgresql creates it)`;
  return null;
}

/** Runs a PostgreSQL tool as the postgres user when we are root. */
function asPostgres(bin: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return isRoot()
    ? run(runuserPath() ?? "runuser", ["-u", "postgres", "--", bin, ...args], { timeoutMs })
    : run(bin, args, { timeoutMs });
}

function chownTree(file: string, uid: number, gid: number): void {
  fs.lchownSync(file, uid, gid);
  if (fs.lstatSync(file).isDirectory())
    for (const name of fs.readdirSync(file)) chownTree(path.join(file, name), uid, gid);
}

export const nativeUrl = (port: number) => `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`;

/** pid and port of a running postmaster, from postmaster.pid. */
function readPostmaster(pgdata: string): { pid: number; port: number } | null {
  try {
    const lines = fs.readFileSync(path.join(pgdata, "postmaster.pid"), "utf8").split("\n");
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return isPidAlive(pid) && port > 0 ? { pid, port } : null;
  } catch {
    return null;
  }
}

async function prepareRoot(dir: string): Promise<void> {
  if (!isRoot()) return;
  const why = nativeUnavailable();
  if (why) throw new StartupError(why);
  const { uid, gid } = postgresUser()!;
  chownTree(dir, uid, gid);
  // The postgres user must also be able to reach the directory through its parents.
  try {
    await asPostgres("/bin/sh", ["-c", 'test -w "$1"', "sh", dir]);
  } catch {
    throw new StartupError(
      `native postgres: user postgres cannot write ${dir} (check the permissions of its parent directories)`,
    );
  }
}

function handleFor(
  pgdata: string,
  st: { pid: number; port: number },
  started: boolean,
  bins: PgBins,
  log: Log,
): ServerHandle {
  const handle = serverHandle({
    name: "postgres",
    url: nativeUrl(st.port),
    pid: st.pid,
    port: st.port,
    started,
    killSignal: "SIGINT", // the postmaster's "fast shutdown"
    async gracefulStop() {
      try {
        await asPostgres(bins.pgCtl, ["-D", pgdata, "stop", "-m", "fast", "-w", "-t", "60"]);
        log(`postgres: stopped pid ${st.pid}`);
      } catch (err) {
        log(`postgres: pg_ctl stop failed (${shortReason(err)}), sending SIGQUIT`);
        try {
          process.kill(st.pid, "SIGQUIT");
        } catch {
          /* gone */
        }
      }
    },
  });
  // The postmaster is not our child (pg_ctl daemonises it), so watch it by polling.
  if (started) {
    const timer = setInterval(() => {
      if (handle.isStopping() || !isPidGone(st.pid)) return;
      clearInterval(timer);
      handle.exitedUnexpectedly(null);
    }, 1000);
    timer.unref();
  }
  return handle;
}

export async function startNativePostgres(opts: {
  dir: string;
  preferredPort?: number;
  ephemeral?: boolean;
  log: Log;
}): Promise<ServerHandle> {
  const { dir, log } = opts;
  const bins = findPgBins();
  if (!bins) throw new StartupError(NATIVE_MISSING);
  const pgdata = path.join(dir, "data");
  const logFile = path.join(dir, "postgres.log");
  return withStartLock(dir, "postgres", log, async () => {
    const live = readPostmaster(pgdata);
    if (live) {
      await pgPing(nativeUrl(live.port), 5000).catch((err) => {
        throw new StartupError(
          `postgres: postmaster pid ${live.pid} runs ${pgdata} but does not answer on port ${live.port} (${shortReason(err)})`,
        );
      });
      log(`postgres: reusing server pid ${live.pid} on port ${live.port}`);
      return handleFor(pgdata, live, false, bins, log);
    }
    await prepareRoot(dir);
    const t0 = Date.now();
    if (!fs.existsSync(path.join(pgdata, "PG_VERSION"))) {
      log(`postgres: initdb ${pgdata} (${bins.binDir})`);
      const args = ["-D", pgdata, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions"];
      if (opts.ephemeral) args.push("--no-sync");
      await asPostgres(bins.initdb, args).catch((err) => {
        throw new StartupError(`postgres: initdb failed: ${shortReason(err)}`);
      });
    }
    for (let attempt = 0; ; attempt++) {
      const port = await pickPort(attempt === 0 ? opts.preferredPort : undefined);
      // Sockets go in the data dir, away from the system server's /var/run/postgresql; the path must fit sun_path.
      const sockDir = path.join(pgdata, `.s.PGSQL.${port}`).length < 100 ? pgdata : "";
      const settings = [
        `-p ${port}`,
        `-c listen_addresses=127.0.0.1`,
        `-c unix_socket_directories='${sockDir}'`,
        `-c max_connections=200`,
        // Test clusters are thrown away: durability only costs time there.
        ...(opts.ephemeral ? ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"] : []),
      ].join(" ");
      try {
        await asPostgres(bins.pgCtl, ["-D", pgdata, "-l", logFile, "-w", "-t", "60", "-o", settings, "start"]);
      } catch (err) {
        const why = tailFile(logFile, 2);
        if (/could not bind|address already in use/i.test(why) && attempt < 3) continue;
        throw new StartupError(`postgres: pg_ctl start failed: ${why || shortReason(err)} (log: ${logFile})`);
      }
      const st = readPostmaster(pgdata);
      if (!st) throw new StartupError(`postgres: started but ${pgdata}/postmaster.pid is missing (log: ${logFile})`);
      await waitFor(
        async () =>
          pgPing(nativeUrl(st.port), 2000).then(
            () => true,
            () => false,
          ),
        30_000,
        200,
      );
      log(`postgres: started pid ${st.pid} on port ${st.port} in ${Date.now() - t0} ms`);
      return handleFor(pgdata, st, true, bins, log);
    }
  });
}

/** Stops the cluster in `dir` if it runs (cli down, stale test dirs). */
export async function stopNativeDir(dir: string, log: Log): Promise<boolean> {
  const pgdata = path.join(dir, "data");
  const live = readPostmaster(pgdata);
  if (!live) return false;
  const bins = findPgBins();
  try {
    if (!bins) throw new Error("pg_ctl not found");
    await asPostgres(bins.pgCtl, ["-D", pgdata, "stop", "-m", "fast", "-w", "-t", "60"]);
  } catch {
    process.kill(live.pid, "SIGINT");
    await waitFor(() => isPidGone(live.pid), 30_000);
  }
  log(`postgres: stopped pid ${live.pid} (${dir})`);
  return true;
}
