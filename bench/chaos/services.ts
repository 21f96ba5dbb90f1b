import fs from "node:fs";
import { clearLockedPorts } from "get-port";
import path from "node:path";
import { startNativePostgres } from "@/scripts/services/native-pg";
import { startPglite } from "@/scripts/services/pglite";
import { startRedis } from "@/scripts/services/redis";
import { isPidAlive, waitFor, type ServerHandle } from "@/scripts/services/util";

export type PgMode = "pglite" | "native";
const log = (line: string) => console.log(`[chaos] services: ${line}`);

/**
 * PostgreSQL and a private redis-server (AOF on, files in `dir`) that the fault suite may kill -9
 * and start again as an operator would: on the same data and the same port, so the apps' URLs hold.
 * The services launcher (scripts/services) does the starting; this only remembers the port.
 */
export class ChaosServices {
  pg!: ServerHandle;
  redis!: ServerHandle;
  private aofSizes: { at: number; file: string; size: number }[] = [];
  private sampler?: NodeJS.Timeout;

  constructor(
    readonly mode: PgMode,
    readonly dir: string,
    /** Ports asked for first (another is taken if one is busy). */
    private ports: { pg?: number; redis?: number } = {},
  ) {}

  get databaseUrl() {
    return this.pg.url;
  }
  get redisUrl() {
    return this.redis.url;
  }
  private get redisDir() {
    return path.join(this.dir, "redis");
  }

  async start() {
    fs.mkdirSync(this.dir, { recursive: true });
    [this.pg, this.redis] = await Promise.all([this.startPg(this.ports.pg), this.startRedis(this.ports.redis)]);
  }

  private startPg(port?: number) {
    // get-port keeps handing out a port it gave this process in the last 15–30 s to no one, not even
    // to the same server started again: released here, so a restart gets its old port back.
    clearLockedPorts();
    const start = this.mode === "native" ? startNativePostgres : startPglite;
    return start({ dir: path.join(this.dir, this.mode === "native" ? "postgres" : "pglite"), preferredPort: port, log });
  }

  /**
   * The shop's default policy (REDIS_APPENDFSYNC, always): a restart on its files then lost nothing
   * it acknowledged, and the sale goes on without a rebuild. `everysec` for the scenarios that model
   * a node that may have lost its last writes.
   */
  private startRedis(port?: number, appendfsync: "always" | "everysec" = "always") {
    clearLockedPorts();
    return startRedis({ dir: this.redisDir, preferredPort: port, log, appendfsync });
  }

  /** kill -9 of the database server (for native PostgreSQL: the postmaster; its backends follow). */
  async killPg() {
    await killHard(this.pg.pid, "database");
  }

  async restartPg() {
    const port = this.pg.port;
    // A killed postmaster's backends can hold its shared memory for a moment: the start is retried.
    for (let attempt = 1; ; attempt++) {
      try {
        this.pg = await this.startPg(port);
        break;
      } catch (e) {
        if (attempt >= 10) throw e;
        log(`database start failed (${e instanceof Error ? e.message : String(e)}); again in 1 s`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    if (this.pg.port !== port) throw new Error(`PostgreSQL came back on port ${this.pg.port}, not ${port}`);
  }

  async killRedis() {
    await killHard(this.redis.pid, "redis");
  }

  /**
   * Starts Redis again on its files as they are now; `empty`: without them (disk lost, a new node);
   * `rewindMs`: with the AOF cut back to the size it had that long ago (an OS crash losing
   * `appendfsync everysec`'s last second).
   */
  async restartRedis(how: { empty?: boolean; rewindMs?: number; appendfsync?: "always" | "everysec" } = {}): Promise<string> {
    let note = "same files";
    const aofDir = path.join(this.redisDir, "appendonlydir");
    if (how.empty) {
      fs.rmSync(aofDir, { recursive: true, force: true });
      fs.rmSync(path.join(this.redisDir, "dump.rdb"), { force: true });
      note = "files deleted";
    } else if (how.rewindMs !== undefined) {
      note = this.rewindAof(how.rewindMs);
    }
    const port = this.redis.port;
    this.redis = await this.startRedis(port, how.appendfsync);
    if (this.redis.port !== port) throw new Error(`Redis came back on port ${this.redis.port}, not ${port}`);
    return how.appendfsync ? `${note}, appendfsync ${how.appendfsync}` : note;
  }

  /** Samples the size of the AOF being appended to every 100 ms, for a rewind. */
  trackAof() {
    this.aofSizes = [];
    clearInterval(this.sampler);
    this.sampler = setInterval(() => {
      const file = this.currentAof();
      if (file) this.aofSizes.push({ at: Date.now(), file, size: fs.statSync(file).size });
      if (this.aofSizes.length > 600) this.aofSizes.shift();
    }, 100);
    this.sampler.unref();
  }

  stopTracking() {
    clearInterval(this.sampler);
  }

  /** The incremental AOF file Redis 7 appends to (the manifest's last `type i` entry). */
  private currentAof(): string | null {
    const dir = path.join(this.redisDir, "appendonlydir");
    const manifest = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.endsWith(".manifest")) : undefined;
    if (!manifest) return null;
    const incr = fs
      .readFileSync(path.join(dir, manifest), "utf8")
      .split("\n")
      .map((l) => /^file (\S+) seq \d+ type i/.exec(l)?.[1])
      .filter((f): f is string => Boolean(f))
      .at(-1);
    return incr ? path.join(dir, incr) : null;
  }

  private rewindAof(ms: number): string {
    this.stopTracking();
    const file = this.currentAof();
    const now = fs.existsSync(file ?? "") ? fs.statSync(file!).size : 0;
    const cutoff = Date.now() - ms;
    const earlier = [...this.aofSizes].reverse().find((s) => s.file === file && s.at <= cutoff);
    if (!file || !earlier) throw new Error(`no AOF size sampled ${ms} ms before the crash (samples: ${this.aofSizes.length})`);
    fs.truncateSync(file, earlier.size);
    return `AOF ${path.basename(file)} cut from ${now} to ${earlier.size} bytes (its size ${Date.now() - earlier.at} ms earlier)`;
  }

  async stop() {
    this.stopTracking();
    await Promise.allSettled([this.pg?.stop(), this.redis?.stop()]);
  }
}

/** SIGKILL, then wait until the process is gone (a zombie counts as gone). */
export async function killHard(pid: number, what: string) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    throw new Error(`kill -9 ${what} (pid ${pid}): not running`);
  }
  if (!(await waitFor(() => !isPidAlive(pid), 10_000)))
    throw new Error(`kill -9 ${what} (pid ${pid}): still alive after 10 s`);
}
