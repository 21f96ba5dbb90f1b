// Private redis-server: finds or starts one per data directory, with AOF persistence.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import getPort from "get-port";
import which from "which";
import writeFileAtomic from "write-file-atomic";
import {
  StartupError,
  isPidAlive,
  readJson,
  redisClient,
  shortReason,
  tailFile,
  terminate,
  waitFor,
  withStartLock,
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
  // sbin is often missing from PATH
  return which.sync("redis-server", { nothrow: true, path: `${process.env.PATH}:/usr/local/sbin:/usr/sbin` });
}

/** The directory a redis on `port` serves (CONFIG GET dir); rejects while it loads its AOF or if nothing answers. */
async function servedDir(port: number, timeoutMs = 3000): Promise<string> {
  const client = redisClient(redisUrl(port), timeoutMs);
  try {
    await client.connect();
    const [, dir] = (await client.config("GET", "dir")) as string[];
    return fs.realpathSync(dir ?? "");
  } finally {
    client.disconnect();
  }
}

/** The server recorded in `dir` if it is alive and really serves that directory (a recycled pid or port is never adopted). */
async function findLiveRedis(dir: string): Promise<State | null> {
  const st = readJson<State>(path.join(dir, "server.json"));
  if (!st || !isPidAlive(st.pid, "redis-server")) return null;
  let lastErr: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      return (await servedDir(st.port)) === fs.realpathSync(dir) ? st : null;
    } catch (err) {
      lastErr = err;
      if (!isPidAlive(st.pid, "redis-server")) return null;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new StartupError(
    `redis: server pid ${st.pid} holds ${dir} but does not answer on port ${st.port} (${shortReason(lastErr)}); ` +
      `stop it with "npm run services -- down"`,
  );
}

/** SIGTERM: redis flushes and fsyncs the AOF, as on SHUTDOWN, then exits. */
const stopPid = (pid: number) => terminate(pid, "SIGTERM", 15_000);

function handleFor(st: State, started: boolean, dir: string, log: Log): ServerHandle {
  return serverHandle({
    name: "redis",
    url: redisUrl(st.port),
    ...st,
    started,
    killSignal: "SIGTERM",
    async gracefulStop() {
      const clean = await stopPid(st.pid);
      fs.rmSync(path.join(dir, "server.json"), { force: true });
      log(clean ? `redis: stopped pid ${st.pid}` : `redis: pid ${st.pid} did not stop in time and was killed`);
    },
  });
}

export async function startRedis(opts: { dir: string; preferredPort?: number; ephemeral?: boolean; log: Log }) {
  const { dir, log } = opts;
  const bin = findRedisServer();
  if (!bin) throw new StartupError(REDIS_MISSING);
  return withStartLock(dir, "redis", log, async (): Promise<ServerHandle> => {
    const live = await findLiveRedis(dir);
    if (live) {
      log(`redis: reusing server pid ${live.pid} on port ${live.port}`);
      return handleFor(live, false, dir, log);
    }
    const logFile = path.join(dir, "redis.log");
    const t0 = Date.now();
    for (let attempt = 0; ; attempt++) {
      // Another program can grab the port between the check and redis binding it: retry on a fresh one.
      const port = await getPort({ port: attempt === 0 ? opts.preferredPort : undefined, host: "127.0.0.1" });
      // Test instances are thrown away, so they skip the AOF.
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--logfile", ""];
      args.push("--appendonly", opts.ephemeral ? "no" : "yes", "--appendfsync", "everysec");
      const fd = fs.openSync(logFile, "a");
      // Own process group (a Ctrl-C at the terminal reaches the launcher, which stops it in order); may outlive us.
      const child = spawn(bin, args, { cwd: dir, detached: true, stdio: ["ignore", fd, fd] });
      fs.closeSync(fd);
      child.unref();
      const st = { pid: child.pid ?? 0, port };
      // Recorded at once: a launcher interrupted now leaves a server that the next run or `down` finds.
      await writeFileAtomic(path.join(dir, "server.json"), JSON.stringify({ ...st, startedAt: new Date() }));
      let exitCode: number | null | undefined;
      child.on("exit", (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
      child.on("error", (err) => {
        exitCode = -1;
        fs.appendFileSync(logFile, `spawn failed: ${err.message}\n`);
      });
      // Loading a large AOF answers LOADING for a while, so wait for the real answer.
      const up = await waitFor(async () => exitCode !== undefined || (await servedDir(port, 1000).then(Boolean, () => false)), 120_000);
      if (exitCode !== undefined) {
        const why = tailFile(logFile, 1);
        if (/in use|bind/i.test(why) && attempt < 3) continue;
        throw new StartupError(`redis: redis-server exited (code ${exitCode}): ${why || "no output"} (log: ${logFile})`);
      }
      if (!up) {
        child.kill("SIGKILL");
        throw new StartupError(`redis: redis-server did not answer within 120s (log: ${logFile})`);
      }
      log(`redis: started pid ${st.pid} on port ${port} in ${Date.now() - t0} ms`);
      return handleFor(st, true, dir, log);
    }
  });
}

/** Stops the server recorded in `dir`, whoever started it (cli down, stale test dirs). */
export async function stopRedisDir(dir: string, log: Log): Promise<boolean> {
  const st = readJson<State>(path.join(dir, "server.json"));
  const running = st !== null && isPidAlive(st.pid, "redis-server");
  const clean = running ? await stopPid(st.pid) : false;
  fs.rmSync(path.join(dir, "server.json"), { force: true });
  if (running) log(clean ? `redis: stopped pid ${st.pid} (${dir})` : `redis: pid ${st.pid} did not stop in time and was killed`);
  return running;
}
