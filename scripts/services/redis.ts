// Private redis-server: finds or starts one per data directory, with AOF persistence.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  StartupError,
  findExecutable,
  isPidGone,
  openLog,
  pickPort,
  pidRuns,
  readJson,
  redisCommand,
  rmQuiet,
  shortReason,
  sleep,
  tailFile,
  terminate,
  trackStarting,
  waitFor,
  withStartLock,
  writeJsonAtomic,
  type Log,
  type ServerHandle,
  serverHandle,
} from "./util.js";

interface State {
  pid: number;
  port: number;
}

export const REDIS_MISSING = `redis-server not found: install it with "apt-get install -y redis-server" (or set REDIS_URL)`;

export const redisUrl = (port: number) => `redis://127.0.0.1:${port}`;

export function findRedisServer(): string | null {
  return findExecutable("redis-server", ["/usr/local/sbin", "/usr/sbin"]); // sbin is often missing from PATH
}

async function ping(port: number, timeoutMs = 3000): Promise<string> {
  const reply = await redisCommand(port, ["PING"], timeoutMs);
  if (reply instanceof Error) throw reply; // e.g. LOADING while the AOF is replayed
  return String(reply);
}

/**
 * The server recorded in `dir` if it is alive, answers, and really serves that directory (CONFIG GET
 * dir), so a recycled pid or port can never make us adopt someone else's redis.
 */
async function findLiveRedis(dir: string): Promise<State | null> {
  const st = readJson<State>(path.join(dir, "server.json"));
  if (!st || !pidRuns(st.pid, "redis-server")) return null;
  let lastErr: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      await ping(st.port);
      const conf = await redisCommand(st.port, ["CONFIG", "GET", "dir"]);
      const servedDir = Array.isArray(conf) ? String(conf[1]) : "";
      return fs.realpathSync(servedDir) === fs.realpathSync(dir) ? st : null;
    } catch (err) {
      lastErr = err;
      if (!pidRuns(st.pid, "redis-server")) return null;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new StartupError(
    `redis: server pid ${st.pid} holds ${dir} but does not answer on port ${st.port} (${shortReason(lastErr)}); ` +
      `stop it with "npx tsx scripts/services/cli.ts down"`,
  );
}

async function shutdown(pid: number, port: number): Promise<boolean> {
  // SHUTDOWN flushes and fsyncs the AOF before exiting; SIGTERM is the fallback if it does not answer.
  try {
    await redisCommand(port, ["SHUTDOWN"], 5000);
  } catch {
    /* fall through to signals */
  }
  if (await waitFor(() => isPidGone(pid), 15_000)) return true;
  return terminate(pid, "SIGTERM", 15_000);
}

function handleFor(st: State, child: ChildProcess | null, dir: string, log: Log): ServerHandle {
  // Waiting for our child's 'exit' lets node reap it, so no zombie is left behind.
  const exited = child ? new Promise<void>((resolve) => child.once("exit", () => resolve())) : Promise.resolve();
  const handle = serverHandle({
    name: "redis",
    url: redisUrl(st.port),
    pid: st.pid,
    port: st.port,
    started: child !== null,
    killSignal: "SIGTERM", // redis treats SIGTERM like SHUTDOWN
    async gracefulStop() {
      const clean = await shutdown(st.pid, st.port);
      await Promise.race([exited, sleep(2000)]);
      rmQuiet(path.join(dir, "server.json"));
      log(clean ? `redis: stopped pid ${st.pid}` : `redis: pid ${st.pid} did not stop in time and was killed`);
    },
  });
  child?.on("exit", (code) => {
    rmQuiet(path.join(dir, "server.json"));
    handle.exitedUnexpectedly(code);
  });
  return handle;
}

export async function startRedis(opts: {
  dir: string;
  preferredPort?: number;
  ephemeral?: boolean;
  log: Log;
}): Promise<ServerHandle> {
  const { dir, log } = opts;
  const bin = findRedisServer();
  if (!bin) throw new StartupError(REDIS_MISSING);
  return withStartLock(dir, "redis", log, async () => {
    const live = await findLiveRedis(dir);
    if (live) {
      log(`redis: reusing server pid ${live.pid} on port ${live.port}`);
      return handleFor(live, null, dir, log);
    }
    const logFile = path.join(dir, "redis.log");
    const t0 = Date.now();
    for (let attempt = 0; ; attempt++) {
      // Another program can grab the port between the check and redis binding it: retry on a fresh one.
      const port = await pickPort(attempt === 0 ? opts.preferredPort : undefined);
      const args = [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        // Test instances are thrown away, so they skip the AOF.
        "--appendonly",
        opts.ephemeral ? "no" : "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--daemonize",
        "no",
        "--logfile",
        "",
      ];
      const fd = openLog(logFile);
      const child = spawn(bin, args, { cwd: dir, detached: true, stdio: ["ignore", fd, fd] });
      fs.closeSync(fd);
      child.unref();
      let exitCode: number | null | undefined;
      child.on("exit", (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
      child.on("error", (err) => {
        exitCode = -1;
        fs.appendFileSync(logFile, `spawn failed: ${err.message}\n`);
      });
      // Loading a large AOF answers LOADING for a while, so wait for a real PONG.
      const untrack = trackStarting(child);
      const up = await waitFor(
        async () => exitCode !== undefined || (await ping(port, 1000).catch(() => "")) === "PONG",
        120_000,
        50,
      );
      untrack();
      if (exitCode !== undefined) {
        const why = tailFile(logFile, 1);
        if (/in use|bind/i.test(why) && attempt < 3) continue;
        throw new StartupError(
          `redis: redis-server exited (code ${exitCode}): ${why || "no output"} (log: ${logFile})`,
        );
      }
      if (!up) {
        child.kill("SIGKILL");
        throw new StartupError(`redis: redis-server did not answer within 120s (log: ${logFile})`);
      }
      const st = { pid: child.pid!, port };
      writeJsonAtomic(path.join(dir, "server.json"), { ...st, startedAt: new Date().toISOString() });
      log(`redis: started pid ${st.pid} on port ${port} in ${Date.now() - t0} ms`);
      return handleFor(st, child, dir, log);
    }
  });
}

/** Stops the server recorded in `dir`, whoever started it (cli down, stale test dirs). */
export async function stopRedisDir(dir: string, log: Log): Promise<boolean> {
  const st = readJson<State>(path.join(dir, "server.json"));
  if (!st || !pidRuns(st.pid, "redis-server")) {
    rmQuiet(path.join(dir, "server.json"));
    return false;
  }
  // Only send SHUTDOWN once the port is confirmed to be this directory's server; else signal the pid.
  const conf = await redisCommand(st.port, ["CONFIG", "GET", "dir"]).catch(() => null);
  const ours = Array.isArray(conf) && path.resolve(String(conf[1])) === fs.realpathSync(dir);
  const clean = ours ? await shutdown(st.pid, st.port) : await terminate(st.pid, "SIGTERM", 15_000);
  rmQuiet(path.join(dir, "server.json"));
  log(clean ? `redis: stopped pid ${st.pid} (${dir})` : `redis: pid ${st.pid} did not stop in time and was killed`);
  return true;
}
