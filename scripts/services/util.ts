// Shared helpers for the local-services launcher: errors, pids, locks, pings, server handles.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import lockfile from "proper-lockfile";

/** An error whose message is one line meant for the user: printed as-is, without a stack. */
export class StartupError extends Error {
  override name = "StartupError";
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, " ")); // one line, whatever the underlying tool printed
  }
}

export type Log = (line: string) => void;

/** <repo>: this file lives in <repo>/scripts/services. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
  const msg = String(e?.message || inner?.message || err).split("\n")[0]!.trim();
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

/** Sends `signal`, waits up to `timeoutMs` for the process to go, then SIGKILLs it. Returns true on a clean exit. */
export async function terminate(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  const signalled = (s: NodeJS.Signals) => {
    try {
      return process.kill(pid, s);
    } catch {
      return false; // already gone
    }
  };
  if (!signalled(signal) || (await waitFor(() => !isPidAlive(pid), timeoutMs))) return true;
  signalled("SIGKILL");
  await waitFor(() => !isPidAlive(pid), 5000);
  return false;
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
      throw new StartupError(`${what}: another launcher has been starting it for 3 minutes (lock ${lockOpts.lockfilePath})`);
    });
  try {
    return await fn();
  } finally {
    await release();
  }
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

/** A one-shot ioredis client that fails instead of retrying: for pings and commands to our own servers. */
export function redisClient(url: string, timeoutMs = 3000): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => {}); // reported by the command that fails
  return client;
}

/** PING through ioredis (handles auth, db index and rediss:// in the URL); rejects within about `timeoutMs`. */
export async function redisPing(url: string, timeoutMs = 3000): Promise<void> {
  const client = redisClient(url, timeoutMs);
  // ioredis rejects connect() with a generic "Connection is closed."; the socket error says why.
  let socketErr: Error | undefined;
  client.on("error", (err: Error) => (socketErr ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw socketErr ?? err;
  } finally {
    client.disconnect();
  }
}

/** A server this launcher found or started. */
export interface ServerHandle {
  name: "pglite" | "postgres" | "redis";
  url: string;
  pid: number;
  port: number;
  /** Started by this call: stop() stops it. A reused server is left alone. */
  started: boolean;
  stop(): Promise<void>;
  /** Synchronous stop for process 'exit' hooks: the signal, then up to 5 s for the process to go. */
  killNow(): void;
  /** Called if a server we started exits while we did not ask it to. */
  onExit(cb: (code: number | null) => void): void;
}

/**
 * The handle of a server process, shared by the three kinds: stop() runs the kind's own graceful
 * stop once, killNow() sends `killSignal`, and unexpected exits (polled: the server is not always our child) reach onExit.
 */
export function serverHandle(o: {
  name: ServerHandle["name"];
  url: string;
  pid: number;
  port: number;
  started: boolean;
  killSignal: NodeJS.Signals;
  gracefulStop: () => Promise<void>;
}): ServerHandle {
  const exitCbs: ((code: number | null) => void)[] = [];
  let stopping = !o.started;
  if (o.started) {
    const timer = setInterval(() => {
      if (stopping || isPidAlive(o.pid)) return;
      clearInterval(timer);
      for (const cb of exitCbs) cb(null);
    }, 500);
    timer.unref();
  }
  return {
    ...o,
    async stop() {
      if (stopping) return;
      stopping = true;
      await o.gracefulStop();
    },
    killNow() {
      if (stopping) return;
      stopping = true;
      try {
        process.kill(o.pid, o.killSignal);
      } catch {
        return; // already gone
      }
      // Sleeps without the event loop: 'exit' hooks cannot await.
      for (let i = 0; i < 100 && isPidAlive(o.pid); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    },
    onExit(cb) {
      exitCbs.push(cb);
    },
  };
}
