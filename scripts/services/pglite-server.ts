// Child process that owns one embedded PostgreSQL (PGlite, in-process WASM) and serves it over TCP.
// It runs on its own so the app/worker processes don't carry the WASM heap and the database
// outlives whoever started it. Started by index.ts; usable by hand:
//   node --import tsx scripts/services/pglite-server.ts --dir .data/pglite [--port 54329] [--parent-pid N]
// Writes <dir>/server.json {pid, port} once it accepts connections; stops cleanly on SIGTERM/SIGINT.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { asyncExitHook, gracefulExit } from "exit-hook";
import writeFileAtomic from "write-file-atomic";
import { multiplexSafe } from "./pglite-mux.js";
import { isPidAlive, readJson } from "./util.js";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    port: { type: "string", default: "0" },
    "parent-pid": { type: "string" },
  },
});
if (!values.dir) {
  console.error("usage: pglite-server.ts --dir <dir> [--port N] [--parent-pid N]");
  process.exit(2);
}

const dir = path.resolve(values.dir);
const dataDir = path.join(dir, "data");
const lockFile = path.join(dir, "server.lock");
const stateFile = path.join(dir, "server.json");
const log = (line: string) => console.log(`${new Date().toISOString()} [pglite ${process.pid}] ${line}`);

fs.mkdirSync(dir, { recursive: true });

// Two PGlite processes on one data directory would corrupt it, whoever started them: claim it first.
// The lock holds our pid (not a lock library's directory) so `down` can find a server still starting.
const holder = readJson<number>(lockFile);
if (holder && holder !== process.pid && isPidAlive(holder, "pglite-server")) {
  console.error(`${dir} is already served by pid ${holder}`);
  process.exit(1);
}
fs.rmSync(lockFile, { force: true }); // left by a server that died without cleaning up
fs.writeFileSync(lockFile, String(process.pid), { flag: "wx" }); // wx: a racing second server fails here

let db: PGlite | undefined;
let server: PGLiteSocketServer | undefined;

function cleanupFiles() {
  if (readJson<number>(lockFile) !== process.pid) return;
  fs.rmSync(stateFile, { force: true });
  fs.rmSync(lockFile, { force: true });
}

process.on("exit", cleanupFiles);
// A misbehaving client connection must not take the database down for everyone else.
process.on("unhandledRejection", (err) => log(`unhandled rejection: ${String(err)}`));
process.on("uncaughtException", (err) => {
  log(`uncaught exception: ${err.stack ?? String(err)}`);
  gracefulExit(1);
});

try {
  const t0 = Date.now();
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    // First run: create the database aside and move it in when complete, so an interrupted first
    // start (Ctrl-C, crash) can never leave a half-written database that later starts would trust.
    const staging = `${dataDir}.init`;
    fs.rmSync(staging, { recursive: true, force: true });
    if (fs.existsSync(dataDir)) fs.renameSync(dataDir, `${dataDir}.incomplete-${Date.now()}`);
    log(`creating database in ${dataDir}`);
    const init = await PGlite.create(staging);
    await init.close();
    fs.renameSync(staging, dataDir);
  }
  db = await PGlite.create(dataDir);
  log(`database ready in ${Date.now() - t0} ms (${dataDir})`);

  // The preferred port when free, else one the system picks (the library's server cannot listen twice: a fresh one).
  const makeServer = (port: number) =>
    new PGLiteSocketServer({ db: multiplexSafe(db!, log), host: "127.0.0.1", port, maxConnections: 100 });
  server = makeServer(Number(values.port));
  await server.start().catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== "EADDRINUSE") throw err;
    server = makeServer(0);
    await server.start();
  });
  const port = Number(server.getServerConn().split(":").pop());
  await writeFileAtomic(stateFile, JSON.stringify({ pid: process.pid, port, startedAt: new Date() }));
  log(`listening on 127.0.0.1:${port}`);
} catch (err) {
  log(`failed to start: ${(err as Error)?.stack ?? String(err)}`);
  console.error(`failed to start: ${String((err as Error)?.message ?? err).split("\n")[0]}`);
  cleanupFiles();
  process.exit(1);
}

// Once serving, SIGTERM/SIGINT close the sockets, then PGlite (db.close() checkpoints, so the next start needs no WAL replay).
asyncExitHook(
  async (code) => {
    log(`stopping (exit code ${code})`);
    await server?.stop().catch((err: unknown) => log(`error while stopping the socket server: ${String(err)}`));
    if (db && !db.closed) await db.close().catch((err: unknown) => log(`error while closing PGlite: ${String(err)}`));
    cleanupFiles();
    log("stopped");
  },
  { wait: 20_000 },
);
// Test instances pass --parent-pid so they never outlive the test run, even after a SIGKILL.
const parentPid = Number(values["parent-pid"] ?? 0);
if (parentPid) {
  setInterval(() => {
    if (isPidAlive(parentPid)) return;
    log(`parent ${parentPid} is gone`);
    gracefulExit();
  }, 1000).unref();
}
