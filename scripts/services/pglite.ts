// Embedded PostgreSQL: finds or starts the pglite-server.ts child for one data directory.
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../lib/procs.js";
import {
  StartupError,
  findRecorded,
  isPidAlive,
  pgPing,
  readJson,
  serverHandle,
  shortReason,
  spawnServer,
  stopPid,
  withStartLock,
  type Log,
  type ServerState,
  type StartOptions,
} from "./util.js";

// PGlite ignores the user, password and database of the startup packet: every session is postgres@postgres.
export const pgliteUrl = (port: number) => `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`;

/** The server of `dir` if alive (slow answers are retried: the mux holds new sessions during another's transaction). */
export const findLivePglite = (dir: string) =>
  findRecorded("pglite", dir, async (port) => (await pgPing(pgliteUrl(port)), true));

const stop = (pid: number, log: Log, where = "") => stopPid("pglite", pid, 30_000, log, where);

export async function startPglite({ dir, preferredPort, ephemeral, log }: StartOptions) {
  const handle = (st: ServerState, started: boolean) =>
    serverHandle({ name: "pglite", url: pgliteUrl(st.port), ...st, started }, () => stop(st.pid, log));
  return withStartLock(dir, "pglite", log, async () => {
    const live = await findLivePglite(dir);
    if (live) {
      log(`pglite: reusing server pid ${live.pid} on port ${live.port}`);
      return handle(live, false);
    }
    const logFile = path.join(dir, "server.log");
    const fresh = !fs.existsSync(path.join(dir, "data", "PG_VERSION"));
    log(`pglite: starting${fresh ? " (first run: creating the database takes a few seconds)" : ""}, log ${logFile}`);
    const t0 = Date.now();
    const entry = path.join(import.meta.dirname, "pglite-server.ts");
    const args = ["--import", "tsx", entry, "--dir", dir, "--port", String(preferredPort ?? 0)];
    // Test instances never outlive the test run, even after a SIGKILL.
    if (ephemeral) args.push("--parent-pid", String(process.pid));
    const stateFile = path.join(dir, "server.json");
    // The server records itself in server.lock at once, so a launcher interrupted now leaves it to `down` or the next run.
    const ready = (pid: number) => readJson<ServerState>(stateFile)?.pid === pid;
    const pid = await spawnServer({
      what: "pglite: server",
      cmd: process.execPath,
      args,
      cwd: ROOT,
      logFile,
      timeoutMs: 180_000,
      ready,
    });
    const st = readJson<ServerState>(stateFile)!;
    await pgPing(pgliteUrl(st.port), 5000).catch((err) => {
      process.kill(st.pid, "SIGTERM");
      throw new StartupError(
        `pglite: server pid ${pid} started but does not answer on port ${st.port} (${shortReason(err)})`,
      );
    });
    log(`pglite: started pid ${pid} on port ${st.port} in ${Date.now() - t0} ms`);
    return handle(st, true);
  });
}

/** Stops the server of `dir`, whoever started it (cli down, stale test dirs); server.lock also names one still starting. */
export async function stopPgliteDir(dir: string, log: Log): Promise<boolean> {
  const recorded = [
    readJson<ServerState>(path.join(dir, "server.json"))?.pid,
    readJson<number>(path.join(dir, "server.lock")),
  ];
  const pid = recorded.find((p): p is number => typeof p === "number" && isPidAlive(p, "pglite-server"));
  if (pid) await stop(pid, log, ` (${dir})`);
  return pid !== undefined;
}
