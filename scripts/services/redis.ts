// Private redis-server: finds or starts one per data directory, with AOF persistence.
import fs from "node:fs";
import path from "node:path";
import getPort from "get-port";
import which from "which";
import writeFileAtomic from "write-file-atomic";
import {
  StartupError,
  findRecorded,
  fulfils,
  isPidAlive,
  readJson,
  serverHandle,
  spawnServer,
  stopPid,
  withRedis,
  withStartLock,
  type Log,
  type ServerState,
  type StartOptions,
} from "./util.js";

export const REDIS_MISSING = `redis-server not found: install it with "apt-get install -y redis-server" (or set REDIS_URL)`;

export const redisUrl = (port: number) => `redis://127.0.0.1:${port}`;

export function findRedisServer(): string | null {
  // sbin is often missing from PATH
  return which.sync("redis-server", { nothrow: true, path: `${process.env.PATH}:/usr/local/sbin:/usr/sbin` });
}

/** The directory a redis on `port` serves (CONFIG GET dir); rejects while it loads its AOF or if nothing answers. */
const servedDir = (port: number, timeoutMs = 3000) =>
  withRedis(
    redisUrl(port),
    async (c) => fs.realpathSync(((await c.config("GET", "dir")) as string[])[1] ?? ""),
    timeoutMs,
  );

async function stop(dir: string, pid: number, log: Log, where = "") {
  await stopPid("redis", pid, 15_000, log, where);
  fs.rmSync(path.join(dir, "server.json"), { force: true });
}

/** The server recorded in `dir` if alive; a recycled pid or port is never adopted: it must really serve `dir`. */
export const findLiveRedis = (dir: string) =>
  findRecorded("redis", dir, async (port) => (await servedDir(port)) === fs.realpathSync(dir));

export async function startRedis({ dir, preferredPort, ephemeral, log, appendfsync = "everysec" }: StartOptions) {
  const bin = findRedisServer();
  if (!bin) throw new StartupError(REDIS_MISSING);
  const handle = (st: ServerState, started: boolean) =>
    serverHandle({ name: "redis", url: redisUrl(st.port), ...st, started }, () => stop(dir, st.pid, log));
  return withStartLock(dir, "redis", log, async () => {
    const live = await findLiveRedis(dir);
    if (live) {
      log(`redis: reusing server pid ${live.pid} on port ${live.port}`);
      // The setting applies to a server an earlier run started too.
      if (!ephemeral) await withRedis(redisUrl(live.port), (c) => c.config("SET", "appendfsync", appendfsync));
      return handle(live, false);
    }
    const t0 = Date.now();
    for (let attempt = 0; ; attempt++) {
      // Another program can grab the port between the check and redis binding it: retry on a fresh one.
      const port = await getPort({ port: attempt === 0 ? preferredPort : undefined, host: "127.0.0.1" });
      // Test instances are thrown away, so they skip the AOF.
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--logfile", ""];
      args.push("--appendonly", ephemeral ? "no" : "yes", "--appendfsync", appendfsync);
      const pid = await spawnServer({
        what: "redis: redis-server",
        cmd: bin,
        args,
        cwd: dir,
        logFile: path.join(dir, "redis.log"),
        timeoutMs: 120_000,
        // Recorded at once: a launcher interrupted now leaves a server that the next run or `down` finds.
        spawned: (pid) =>
          writeFileAtomic(path.join(dir, "server.json"), JSON.stringify({ pid, port, startedAt: new Date() })),
        // Loading a large AOF answers LOADING for a while, so wait for the real answer.
        ready: () => fulfils(servedDir(port, 1000)),
        retryOn: attempt < 3 ? /in use|bind/i : undefined,
      });
      if (pid === null) continue;
      log(`redis: started pid ${pid} on port ${port} in ${Date.now() - t0} ms${ephemeral ? "" : ` (appendfsync ${appendfsync})`}`);
      return handle({ pid, port }, true);
    }
  });
}

/** Stops the server recorded in `dir`, whoever started it (cli down, stale test dirs). */
export async function stopRedisDir(dir: string, log: Log): Promise<boolean> {
  const st = readJson<ServerState>(path.join(dir, "server.json"));
  const running = st !== null && isPidAlive(st.pid, "redis-server");
  if (running) await stop(dir, st.pid, log, ` (${dir})`);
  else fs.rmSync(path.join(dir, "server.json"), { force: true });
  return running;
}
