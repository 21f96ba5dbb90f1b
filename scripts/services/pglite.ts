// Embedded PostgreSQL: finds or starts the pglite-server.ts child for one data directory.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  REPO_ROOT,
  StartupError,
  isPidAlive,
  pgPing,
  readJson,
  shortReason,
  tailFile,
  terminate,
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
  let lastErr: unknown;
  for (let i = 0; st && i < 4; i++) {
    if (!isPidAlive(st.pid, "pglite-server")) return null;
    try {
      await pgPing(pgliteUrl(st.port), 3000);
      return st;
    } catch (err) {
      lastErr = err;
    }
  }
  if (!st) return null;
  throw new StartupError(
    `pglite: server pid ${st.pid} holds ${dir} but does not answer on port ${st.port} (${shortReason(lastErr)}); ` +
      `stop it with "npm run services -- down"`,
  );
}

async function stopPid(pid: number, log: Log, where = "") {
  // SIGTERM makes the server close its sockets and PGlite (checkpoint) before exiting.
  const clean = await terminate(pid, "SIGTERM", 30_000);
  log(clean ? `pglite: stopped pid ${pid}${where}` : `pglite: pid ${pid} did not stop in 30s and was killed`);
}

const handleFor = (st: State, started: boolean, log: Log): ServerHandle =>
  serverHandle({ name: "pglite", url: pgliteUrl(st.port), ...st, started, killSignal: "SIGTERM", gracefulStop: () => stopPid(st.pid, log) });

export async function startPglite(opts: { dir: string; preferredPort?: number; parentPid?: number; log: Log }) {
  const { dir, log } = opts;
  return withStartLock(dir, "pglite", log, async (): Promise<ServerHandle> => {
    const live = await findLivePglite(dir);
    if (live) {
      log(`pglite: reusing server pid ${live.pid} on port ${live.port}`);
      return handleFor(live, false, log);
    }
    const logFile = path.join(dir, "server.log");
    const fresh = !fs.existsSync(path.join(dir, "data", "PG_VERSION"));
    log(`pglite: starting${fresh ? " (first run: creating the database takes a few seconds)" : ""}, log ${logFile}`);
    const t0 = Date.now();
    const args = ["--import", "tsx", ENTRY, "--dir", dir, "--port", String(opts.preferredPort ?? 0)];
    if (opts.parentPid) args.push("--parent-pid", String(opts.parentPid));
    const fd = fs.openSync(logFile, "a");
    // Own process group: a Ctrl-C at the terminal goes to the launcher, which then stops this in order.
    // It records itself in server.lock at once, so a launcher interrupted now leaves it to `down` or the next run.
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
    const up = await waitFor(() => exitCode !== undefined || readJson<State>(stateFile)?.pid === child.pid, 180_000);
    if (exitCode !== undefined) {
      throw new StartupError(`pglite: server exited (code ${exitCode}): ${tailFile(logFile, 1) || "no output"} (log: ${logFile})`);
    }
    if (!up) {
      child.kill("SIGKILL");
      throw new StartupError(`pglite: server did not come up within 180s (log: ${logFile})`);
    }
    const st = readJson<State>(stateFile)!;
    await pgPing(pgliteUrl(st.port), 5000).catch((err) => {
      child.kill("SIGTERM");
      throw new StartupError(`pglite: server pid ${st.pid} started but does not answer on port ${st.port} (${shortReason(err)})`);
    });
    log(`pglite: started pid ${st.pid} on port ${st.port} in ${Date.now() - t0} ms`);
    return handleFor(st, true, log);
  });
}

/** Stops the server of `dir`, whoever started it (cli down, stale test dirs); server.lock also names one still starting. */
export async function stopPgliteDir(dir: string, log: Log): Promise<boolean> {
  const locked = readJson<number>(path.join(dir, "server.lock"));
  const pid = [readJson<State>(path.join(dir, "server.json"))?.pid, locked].find(
    (p): p is number => typeof p === "number" && isPidAlive(p, "pglite-server"),
  );
  if (pid) await stopPid(pid, log, ` (${dir})`);
  return pid !== undefined;
}
