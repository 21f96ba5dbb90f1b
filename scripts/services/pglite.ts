// Embedded PostgreSQL: finds or starts the pglite-server.ts child for one data directory.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  EXIT_BUSY,
  REPO_ROOT,
  StartupError,
  openLog,
  pgPing,
  pidRuns,
  readJson,
  shortReason,
  sleep,
  tailFile,
  terminate,
  trackStarting,
  waitFor,
  withStartLock,
  type Log,
  type ServerHandle,
  serverHandle,
} from "./util.js";

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), "pglite-server.ts");

interface State {
  pid: number;
  port: number;
}

// PGlite ignores the user, password and database of the startup packet: every session is postgres@postgres.
export const pgliteUrl = (port: number) => `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`;

/**
 * The server recorded in `dir` if it is alive and answers. It may be slow to answer because the
 * multiplexer holds new sessions while another client is inside a transaction, so it gets several
 * tries; a live server that never answers is an error, as starting a second one would corrupt the data.
 */
export async function findLivePglite(dir: string): Promise<State | null> {
  const st = readJson<State>(path.join(dir, "server.json"));
  if (!st || !pidRuns(st.pid, "pglite-server")) return null;
  let lastErr: unknown;
  for (let i = 0; i < 4; i++) {
    try {
      await pgPing(pgliteUrl(st.port), 3000);
      return st;
    } catch (err) {
      lastErr = err;
      if (!pidRuns(st.pid, "pglite-server")) return null;
    }
  }
  throw new StartupError(
    `pglite: server pid ${st.pid} holds ${dir} but does not answer on port ${st.port} (${shortReason(lastErr)}); ` +
      `stop it with "npx tsx scripts/services/cli.ts down"`,
  );
}

function handleFor(st: State, child: ChildProcess | null, log: Log): ServerHandle {
  // Waiting for our child's 'exit' lets node reap it, so no zombie is left behind.
  const exited = child ? new Promise<void>((resolve) => child.once("exit", () => resolve())) : Promise.resolve();
  const handle = serverHandle({
    name: "pglite",
    url: pgliteUrl(st.port),
    pid: st.pid,
    port: st.port,
    started: child !== null,
    killSignal: "SIGTERM",
    async gracefulStop() {
      // SIGTERM makes the server close its sockets and PGlite (checkpoint) before exiting.
      const clean = await terminate(st.pid, "SIGTERM", 30_000);
      await Promise.race([exited, sleep(2000)]);
      log(clean ? `pglite: stopped pid ${st.pid}` : `pglite: pid ${st.pid} did not stop in 30s and was killed`);
    },
  });
  child?.on("exit", (code) => handle.exitedUnexpectedly(code));
  return handle;
}

export async function startPglite(opts: {
  dir: string;
  preferredPort?: number;
  parentPid?: number;
  log: Log;
}): Promise<ServerHandle> {
  const { dir, log } = opts;
  return withStartLock(dir, "pglite", log, async () => {
    const live = await findLivePglite(dir);
    if (live) {
      log(`pglite: reusing server pid ${live.pid} on port ${live.port}`);
      return handleFor(live, null, log);
    }

    const logFile = path.join(dir, "server.log");
    const fresh = !fs.existsSync(path.join(dir, "data", "PG_VERSION"));
    log(`pglite: starting${fresh ? " (first run: creating the database takes a few seconds)" : ""}, log ${logFile}`);
    const t0 = Date.now();
    const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const args = [
      "--import",
      tsxLoader,
      ENTRY,
      "--dir",
      dir,
      "--port",
      String(opts.preferredPort ?? 0),
      "--max-connections",
      "100",
    ];
    if (opts.parentPid) args.push("--parent-pid", String(opts.parentPid));
    const fd = openLog(logFile);
    // Own process group: a Ctrl-C at the terminal goes to the launcher, which then stops this in order.
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, detached: true, stdio: ["ignore", fd, fd] });
    fs.closeSync(fd);
    child.unref(); // the launcher may exit and leave the server for the next run to reuse
    let exitCode: number | null | undefined;
    child.on("exit", (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
    child.on("error", (err) => {
      exitCode = -1;
      fs.appendFileSync(logFile, `spawn failed: ${err.message}\n`);
    });

    const stateFile = path.join(dir, "server.json");
    const untrack = trackStarting(child);
    const up = await waitFor(() => exitCode !== undefined || readJson<State>(stateFile)?.pid === child.pid, 180_000);
    untrack();
    if (exitCode === EXIT_BUSY) {
      // Someone started a server by hand without our lock: use theirs once it is up.
      const theirs = await waitFor(async () => (await findLivePglite(dir)) !== null, 120_000, 250);
      const st = theirs ? await findLivePglite(dir) : null;
      if (st) return handleFor(st, null, log);
    }
    if (exitCode !== undefined) {
      throw new StartupError(
        `pglite: server exited (code ${exitCode}): ${tailFile(logFile, 1) || "no output"} (log: ${logFile})`,
      );
    }
    if (!up) {
      child.kill("SIGKILL");
      throw new StartupError(`pglite: server did not come up within 180s (log: ${logFile})`);
    }
    const st = readJson<State>(stateFile)!;
    await pgPing(pgliteUrl(st.port), 5000).catch((err) => {
      child.kill("SIGTERM");
      throw new StartupError(
        `pglite: server pid ${st.pid} started but does not answer on port ${st.port} (${shortReason(err)})`,
      );
    });
    log(`pglite: started pid ${st.pid} on port ${st.port} in ${Date.now() - t0} ms`);
    return handleFor(st, child, log);
  });
}

/** Stops the server recorded in `dir`, whoever started it (cli down, stale test dirs). */
export async function stopPgliteDir(dir: string, log: Log): Promise<boolean> {
  const st = readJson<State>(path.join(dir, "server.json"));
  const lockPid = Number(
    (() => {
      try {
        return fs.readFileSync(path.join(dir, "server.lock"), "utf8").trim();
      } catch {
        return "0";
      }
    })(),
  );
  // server.json names a ready server; server.lock also covers one that is still starting.
  const pid = [st?.pid ?? 0, lockPid].find((p) => p > 0 && pidRuns(p, "pglite-server"));
  if (!pid) return false;
  const clean = await terminate(pid, "SIGTERM", 30_000);
  log(clean ? `pglite: stopped pid ${pid} (${dir})` : `pglite: pid ${pid} did not stop in 30s and was killed`);
  return true;
}
