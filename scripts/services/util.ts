// Shared helpers for the local-services launcher: errors, pids, locks, pings, server processes and handles.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";
import { parseRedisTarget } from "../../lib/redis-connect.js";
import lockfile from "proper-lockfile";

/** An error whose message is one line meant for the user: printed as-is, without a stack. */
export class StartupError extends Error {
  override name = "StartupError";
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, " ")); // one line, whatever the underlying tool printed
  }
}

export type Log = (line: string) => void;

/** What a server records in <dir>/server.json, and what a postmaster.pid says. */
export interface ServerState {
  pid: number;
  port: number;
}

/** How the launcher starts a server of any kind; `ephemeral`: a throwaway test instance, tied to this process. */
export interface StartOptions {
  dir: string;
  preferredPort?: number;
  ephemeral?: boolean;
  log: Log;
  /** Redis only: its AOF fsync policy (REDIS_APPENDFSYNC). */
  appendfsync?: "always" | "everysec";
}

/** Hides the password of a connection URL so it can be printed. */
export function maskUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:****@");
}

/** A short reason for a connection failure: the errno code when there is one, else the message's first line. */
export function shortReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | null;
  // net.connect to a name that resolves to several addresses fails with an AggregateError without a message.
  const inner = Array.isArray(e?.errors) ? (e.errors[0] as typeof e) : undefined;
  const code = e?.code ?? inner?.code;
  const msg = String(e?.message || inner?.message || err)
    .split("\n")[0]!
    .trim();
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
  return typeof code === "string" && code ? `${code} ${msg}` : msg;
}

/**
 * The process exists, is not a zombie (this sandbox's init does not reap orphans) and, when `needle`
 * is given, its command line contains it (guards against a reused pid).
 */
export function isPidAlive(pid: number, needle?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const proc = (file: string) => fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
  try {
    // /proc/<pid>/stat: "pid (comm) S ...": the state letter follows the last ')'.
    const stat = proc("stat");
    if (stat[stat.lastIndexOf(")") + 2] === "Z") return false;
    return !needle || proc("cmdline").split("\0").join(" ").includes(needle);
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Polls `cond` until it is true or the timeout passes. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** Each kind's fast clean shutdown: SIGINT for a postmaster; redis flushes its AOF and the PGlite server checkpoints on SIGTERM. */
const stopSignal = (what: string) => (what === "postgres" ? "SIGINT" : "SIGTERM");

/** Whether the promise fulfils: for "does it answer yet?" polls. */
export const fulfils = (p: Promise<unknown>) => p.then(() => true).catch(() => false);

/** Sends the stop signal, SIGKILLs the process if it is still there after `timeoutMs`, and logs which. */
// Not fkill: its ps-based liveness check counts this sandbox's unreaped zombies as running.
export async function stopPid(what: string, pid: number, timeoutMs: number, log: Log, where = ""): Promise<void> {
  const signalled = (s: NodeJS.Signals) => {
    try {
      return process.kill(pid, s);
    } catch {
      return false; // already gone
    }
  };
  if (!signalled(stopSignal(what)) || (await waitFor(() => !isPidAlive(pid), timeoutMs))) {
    log(`${what}: stopped pid ${pid}${where}`);
    return;
  }
  signalled("SIGKILL");
  await waitFor(() => !isPidAlive(pid), 5000);
  log(`${what}: pid ${pid} did not stop in ${timeoutMs / 1000}s and was killed`);
}

export function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return null; // missing or half-written by a crashed run: as good as absent
  }
}

/** The last lines of a log file as one line, for an error message. */
export function tailFile(file: string, lines = 3): string {
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trimEnd() : "";
  return text.split("\n").slice(-lines).join(" | ").trim();
}

/**
 * Serialises "is one running? else start one" across processes for one state directory, so two
 * launchers racing on a fresh clone cannot start two servers on the same data. A lock whose holder
 * died goes stale and is taken over.
 */
export async function withStartLock<T>(dir: string, what: string, log: Log, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(dir, { recursive: true });
  const lockOpts = { lockfilePath: path.join(dir, ".start.lock"), stale: 10_000 };
  if (await lockfile.check(dir, lockOpts)) log(`${what}: waiting for another launcher, which is starting it`);
  const release = await lockfile
    .lock(dir, { ...lockOpts, retries: { retries: 1800, minTimeout: 100, maxTimeout: 100 } })
    .catch(() => {
      throw new StartupError(
        `${what}: another launcher has been starting it for 3 minutes (lock ${lockOpts.lockfilePath})`,
      );
    });
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * The server recorded in <dir>/server.json if its process (a `<what>-server` command line) is alive
 * and `serves` says it is ours. It gets several tries, as a busy or loading server can be slow; a
 * live one that never answers is an error, as starting a second one would corrupt the data.
 */
export async function findRecorded(what: string, dir: string, serves: (port: number) => Promise<boolean>) {
  const st = readJson<ServerState>(path.join(dir, "server.json"));
  let lastErr: unknown;
  for (let i = 0; st && i < 4; i++) {
    if (!isPidAlive(st.pid, `${what}-server`)) return null;
    try {
      return (await serves(st.port)) ? st : null;
    } catch (err) {
      lastErr = err;
      await sleep(500);
    }
  }
  if (!st) return null;
  throw new StartupError(
    `${what}: server pid ${st.pid} holds ${dir} but does not answer on port ${st.port} (${shortReason(lastErr)}); ` +
      `stop it with "npm run services -- down"`,
  );
}

/**
 * Starts a server in its own process group (a Ctrl-C at the terminal reaches the launcher, which
 * stops it in order), output appended to `logFile`, free to outlive us for the next run to reuse.
 * Resolves with its pid once `ready`; null if it exited with a log line matching `retryOn`;
 * otherwise a StartupError quoting the log.
 */
export async function spawnServer(o: {
  what: string;
  cmd: string;
  args: string[];
  cwd: string;
  logFile: string;
  timeoutMs: number;
  ready: (pid: number) => boolean | Promise<boolean>;
  /** Runs at once, before waiting (e.g. to record the pid so an interrupted launcher leaves it findable). */
  spawned?: (pid: number) => Promise<void>;
  retryOn?: RegExp;
}): Promise<number | null> {
  const fd = fs.openSync(o.logFile, "a");
  const child = spawn(o.cmd, o.args, { cwd: o.cwd, detached: true, stdio: ["ignore", fd, fd] });
  fs.closeSync(fd);
  child.unref();
  const pid = child.pid ?? 0;
  let spawnError: Error | undefined;
  child.on("error", (err) => (spawnError = err));
  const exited = () => Boolean(spawnError) || child.exitCode !== null || child.signalCode !== null;
  await o.spawned?.(pid);
  const up = await waitFor(async () => exited() || (await o.ready(pid)), o.timeoutMs);
  if (exited()) {
    const why = spawnError?.message ?? tailFile(o.logFile, 1);
    if (o.retryOn?.test(why)) return null;
    const code = child.exitCode ?? child.signalCode ?? -1;
    throw new StartupError(`${o.what} exited (code ${code}): ${why || "no output"} (log: ${o.logFile})`);
  }
  if (!up) {
    child.kill("SIGKILL");
    throw new StartupError(`${o.what} did not answer within ${o.timeoutMs / 1000}s (log: ${o.logFile})`);
  }
  return pid;
}

/** Connects, runs SELECT 1, disconnects; rejects within about `timeoutMs`. */
export async function pgPing(url: string, timeoutMs = 3000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on("error", () => {}); // a late socket error must not crash the caller; the query's rejection says why
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    void client.end().catch(() => {}); // the connection is being dropped anyway
  }
}

/**
 * Connects a one-shot ioredis client that fails instead of retrying, runs `fn`, disconnects; rejects
 * within about `timeoutMs` with the socket's error (ioredis itself only says "Connection is closed.").
 */
export async function withRedis<T>(url: string, fn: (client: Redis) => Promise<T>, timeoutMs = 3000): Promise<T> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let socketErr: Error | undefined;
  client.on("error", (err: Error) => (socketErr ??= err));
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    throw socketErr ?? err;
  } finally {
    client.disconnect();
  }
}

/**
 * PING through ioredis (handles auth, db index and rediss:// in the URL); for a cluster URL, each
 * seed node answers and reports every slot served.
 */
export async function redisPing(url: string, timeoutMs = 3000): Promise<void> {
  const t = parseRedisTarget(url);
  if (t.kind === "single") return void (await withRedis(url, (c) => c.ping(), timeoutMs));
  const auth =
    t.username || t.password ? `${encodeURIComponent(t.username ?? "")}:${encodeURIComponent(t.password ?? "")}@` : "";
  await Promise.all(
    t.nodes.map((n) =>
      withRedis(
        `${t.tls ? "rediss" : "redis"}://${auth}${n.host}:${n.port}`,
        async (c) => {
          if (!/cluster_state:ok/.test(await c.cluster("INFO")))
            throw new Error(`cluster at ${n.host}:${n.port} is not ok (slots unserved)`);
        },
        timeoutMs,
      ),
    ),
  );
}

/** A server this launcher found or started. */
export interface ServerHandle extends ServerState {
  name: "pglite" | "postgres" | "redis";
  url: string;
  /** Started by this call: stop() stops it. A reused server is left alone. */
  started: boolean;
  stop(): Promise<void>;
  /** Synchronous stop for process 'exit' hooks: the signal, then up to 5 s for the process to go. */
  killNow(): void;
  /** Called if a server we started exits while we did not ask it to. */
  onExit(cb: () => void): void;
}

/**
 * The handle of a server process, shared by the three kinds: stop() runs the kind's own graceful stop
 * once, killNow() sends the kind's stop signal, and unexpected exits (polled: the server is not always our child) reach onExit.
 */
type HandleInfo = Omit<ServerHandle, "stop" | "killNow" | "onExit">;
export function serverHandle(o: HandleInfo, gracefulStop: () => Promise<void>): ServerHandle {
  const exitCbs: (() => void)[] = [];
  let stopping = !o.started;
  if (o.started) {
    const timer = setInterval(() => {
      if (stopping || isPidAlive(o.pid)) return;
      clearInterval(timer);
      for (const cb of exitCbs) cb();
    }, 500);
    timer.unref();
  }
  return {
    ...o,
    async stop() {
      if (stopping) return;
      stopping = true;
      await gracefulStop();
    },
    killNow() {
      if (stopping) return;
      stopping = true;
      try {
        process.kill(o.pid, stopSignal(o.name));
      } catch {
        return; // already gone
      }
      // Sleeps without the event loop: 'exit' hooks cannot await.
      for (let i = 0; i < 100 && isPidAlive(o.pid); i++)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    },
    onExit(cb) {
      exitCbs.push(cb);
    },
  };
}
