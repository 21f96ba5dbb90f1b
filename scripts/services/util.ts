// Shared helpers for the local-services launcher: ports, processes, lock/state files, pings.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";

/** An error whose message is one line meant for the user: printed as-is, without a stack. */
export class StartupError extends Error {
  override name = "StartupError";
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, " ")); // one line, whatever the underlying tool printed
  }
}

export type Log = (line: string) => void;

/** Exit code of pglite-server.ts when another live server already owns the data directory. */
export const EXIT_BUSY = 3;

/** <repo>: this file lives in <repo>/scripts/services. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Hides the password of a connection URL so it can be printed. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:****@");
  }
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
  if (typeof code === "string" && code) return `${code} ${msg}`;
  return msg;
}

/** The process exists and is not a zombie (this sandbox's init does not reap orphans, so zombies linger). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ...": the state letter follows the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const at = stat.lastIndexOf(")") + 2;
    return stat.slice(at, at + 1) !== "Z";
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** True once the process has exited (an unreaped zombie counts as exited). */
export function isPidGone(pid: number): boolean {
  return !isPidAlive(pid);
}

/** Sleeps without the event loop, for process 'exit' hooks that cannot await. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The command line of a process (Linux /proc), or null when unknown; guards against reused pids. */
export function cmdlineOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return null;
  }
}

/** True when pid is alive and (where /proc can tell) its command line contains `needle`. */
export function pidRuns(pid: number, needle: string): boolean {
  if (!isPidAlive(pid)) return false;
  const cmd = cmdlineOf(pid);
  return cmd === null || cmd.includes(needle);
}

/** Polls `cond` until it is true or the timeout passes. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** Sends `signal`, waits up to `timeoutMs` for the process to go, then SIGKILLs it. Returns true on a clean exit. */
export async function terminate(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  const gone = () => isPidGone(pid);
  try {
    process.kill(pid, signal);
  } catch {
    return true;
  }
  if (await waitFor(gone, timeoutMs)) return true;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* already gone */
  }
  await waitFor(gone, 5000);
  return false;
}

export function canListen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** `preferred` when it is free, else a port the OS hands out. */
export async function pickPort(preferred?: number): Promise<number> {
  if (preferred && (await canListen(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen({ port: 0, host: "127.0.0.1" }, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** PATH first, then the extra directories. */
export function findExecutable(name: string, extraDirs: string[] = []): string | null {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

export function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return null;
  }
}

/** Write-then-rename so a reader never sees half a file. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n");
  fs.renameSync(tmp, file);
}

export function rmQuiet(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    /* ignore */
  }
}

export function tailFile(file: string, lines = 3): string {
  try {
    const text = fs.readFileSync(file, "utf8").trimEnd();
    return text.split("\n").slice(-lines).join(" | ").trim();
  } catch {
    return "";
  }
}

/** Opens a child's log file for appending, starting over once it gets large. */
export function openLog(file: string): number {
  try {
    if (fs.statSync(file).size > 10 * 1024 * 1024) fs.rmSync(file);
  } catch {
    /* no log yet */
  }
  return fs.openSync(file, "a");
}

/**
 * Serialises "is one running? else start one" across processes for one state directory, so two
 * launchers racing on a fresh clone cannot start two servers on the same data. A lock left by a dead
 * process is taken over.
 */
export async function withStartLock<T>(dir: string, what: string, log: Log, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, ".start.lock");
  const deadline = Date.now() + 180_000;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(fs.readFileSync(lock, "utf8").trim() || "0");
      if (!isPidAlive(holder)) {
        rmQuiet(lock);
        continue;
      }
      if (Date.now() > deadline)
        throw new StartupError(`${what}: pid ${holder} has been starting it for 3 minutes (lock ${lock})`);
      if (!told) log(`${what}: waiting for pid ${holder}, which is starting it`);
      told = true;
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmQuiet(lock);
  }
}

/** Runs a command in its own process group (so a Ctrl-C at the terminal does not hit it), resolving with
 *  its output, rejecting with the last lines of its output as a one-line reason. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(out);
      const detail = out.trim().split("\n").filter(Boolean).slice(-2).join(" | ");
      reject(new Error(detail || `${path.basename(cmd)} exited with ${signal ?? code}`));
    });
  });
}

// Server processes this process spawned that are not up yet: a Ctrl-C during startup must take them
// along, since they run in their own process group and the terminal's SIGINT does not reach them.
const starting = new Set<ChildProcess>();

export function trackStarting(child: ChildProcess): () => void {
  starting.add(child);
  return () => starting.delete(child);
}

export function abortStarting(): void {
  for (const child of starting) {
    try {
      if (child.pid) process.kill(child.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
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
  /** Best-effort synchronous stop for process 'exit' hooks (signal only, or signal and a short wait). */
  killNow(wait?: boolean): void;
  /** Called if a server we started exits while we did not ask it to. */
  onExit(cb: (code: number | null) => void): void;
}

/**
 * The handle of a server process, shared by the three kinds: stop() runs the kind's own graceful
 * stop once, killNow() sends `killSignal` (for exit hooks), and unexpected exits reach onExit.
 */
export function serverHandle(o: {
  name: ServerHandle["name"];
  url: string;
  pid: number;
  port: number;
  started: boolean;
  killSignal: NodeJS.Signals;
  gracefulStop: () => Promise<void>;
}): ServerHandle & { exitedUnexpectedly(code: number | null): void; isStopping(): boolean } {
  const exitCbs: ((code: number | null) => void)[] = [];
  let stopping = false;
  return {
    name: o.name,
    url: o.url,
    pid: o.pid,
    port: o.port,
    started: o.started,
    async stop() {
      if (!o.started || stopping) return;
      stopping = true;
      await o.gracefulStop();
    },
    killNow(wait = false) {
      if (!o.started || stopping) return;
      stopping = true;
      try {
        process.kill(o.pid, o.killSignal);
      } catch {
        return;
      }
      for (let i = 0; wait && i < 100 && !isPidGone(o.pid); i++) sleepSync(50);
    },
    onExit(cb) {
      exitCbs.push(cb);
    },
    exitedUnexpectedly(code) {
      if (!stopping) for (const cb of exitCbs) cb(code);
    },
    isStopping: () => stopping,
  };
}

/** Connects, runs SELECT 1, disconnects; rejects within about `timeoutMs`. */
export async function pgPing(url: string, timeoutMs = 3000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on("error", () => {}); // a late socket error must not crash the caller
  // connectionTimeoutMillis covers the TCP connect; a server that accepts but never answers the startup is caught here.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })), timeoutMs + 500);
  });
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.query("SELECT 1");
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    client.end().catch(() => {});
  }
}

/** PING through ioredis (handles auth, db index and rediss:// in the URL); rejects within about `timeoutMs`. */
export async function redisPing(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis rejects connect() with a generic "Connection is closed."; the socket error says why.
  let socketErr: Error | undefined;
  client.on("error", (err: Error) => (socketErr ??= err));
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== "PONG") throw new Error(`unexpected reply ${pong}`);
  } catch (err) {
    throw socketErr ?? err;
  } finally {
    client.disconnect();
  }
}

type Resp = string | number | null | Resp[] | Error;

/**
 * One command to a local redis over a bare socket (no auth: only for servers we started). Kept
 * independent of ioredis because SHUTDOWN closes the connection, which a client library reports as an error.
 */
export function redisCommand(port: number, args: string[], timeoutMs = 3000): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, value?: Resp) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value ?? null);
    };
    const timer = setTimeout(() => done(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })), timeoutMs);
    sock.on("connect", () => {
      sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(""));
    });
    sock.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const parsed = parseResp(buf, 0);
      if (parsed) done(null, parsed.value);
    });
    sock.on("error", (err) => done(err));
    // SHUTDOWN answers by closing the connection.
    sock.on("close", () => done(null, null));
  });
}

function parseResp(buf: Buffer, at: number): { value: Resp; end: number } | null {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString("utf8", at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case "+":
      return { value: line, end: next };
    case "-":
      return { value: new Error(line), end: next };
    case ":":
      return { value: Number(line), end: next };
    case "$": {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      return { value: buf.toString("utf8", next, next + len), end: next + len + 2 };
    }
    case "*": {
      const n = Number(line);
      const items: Resp[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseResp(buf, pos);
        if (!item) return null;
        items.push(item.value);
        pos = item.end;
      }
      return { value: n < 0 ? null : items, end: pos };
    }
    default:
      return { value: new Error(`bad reply ${line}`), end: next };
  }
}
