import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import { eachServer, type RedisClient } from "@/lib/redis-connect";
import { round } from "@/bench/lib/stats";

const TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Every process's parent and CPU seconds (user + system, plus its reaped children's), from /proc. */
export function processTable(): { parent: Map<number, number>; cpu: Map<number, number> } {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // Fields after "(comm)": state ppid … utime(14) stime(15) cutime(16) cstime(17), numbered as in proc(5).
      // cutime/cstime hold children that exited and were reaped (e.g. PostgreSQL backends), so the
      // tree's total does not drop when a process in it ends.
      parent.set(Number(name), Number(rest[1]));
      cpu.set(Number(name), (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) / TICKS);
    } catch {
      // the process ended while we looked
    }
  }
  return { parent, cpu };
}

/** A process and all its descendants. */
export function processTree(rootPid: number): number[] {
  const { parent } = processTable();
  return [...parent.keys()].filter((pid) => isInTree(parent, pid, rootPid));
}

function isInTree(parent: Map<number, number>, pid: number, rootPid: number): boolean {
  for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = parent.get(p), hops++)
    if (p === rootPid) return true;
  return false;
}

/** One process, or several (web instances behind a balancer, each with its own tree). */
export type Pids = number | undefined | (number | undefined)[];

/** The first of them (the measures that read one process, such as its memory). */
export const firstPid = (p: Pids): number | undefined => (Array.isArray(p) ? p[0] : p);

/** CPU seconds (user + system) of the processes and all their descendants, living or reaped, from /proc. */
export function treeCpuSeconds(roots: Pids): number {
  const list = (Array.isArray(roots) ? roots : [roots]).filter((p): p is number => Boolean(p));
  if (!list.length) return 0;
  const { parent, cpu } = processTable();
  let total = 0;
  for (const [pid, seconds] of cpu) if (list.some((root) => isInTree(parent, pid, root))) total += seconds;
  return total;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

/** Commands and CPU of Redis, from INFO. */
export interface RedisCounters {
  commands: number;
  perCommand: Record<string, number>;
  usecPerCommand: Record<string, number>;
  cpu: number;
}

/** Commands and CPU of Redis from INFO: the one server's, or the sum over a cluster's masters. */
export async function redisCounters(r: RedisClient): Promise<RedisCounters> {
  const num = (text: string, key: string) => Number(new RegExp(`^${key}:([\\d.]+)`, "m").exec(text)?.[1] ?? 0);
  const total: RedisCounters = { commands: 0, perCommand: {}, usecPerCommand: {}, cpu: 0 };
  for (const server of eachServer(r)) {
    const [stats, cmd, cpu] = await Promise.all([server.info("stats"), server.info("commandstats"), server.info("cpu")]);
    for (const m of cmd.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      total.perCommand[m[1]!] = (total.perCommand[m[1]!] ?? 0) + Number(m[2]);
      // usec: time spent executing the command (a script's includes the commands it ran), not reading or writing sockets.
      total.usecPerCommand[m[1]!] = (total.usecPerCommand[m[1]!] ?? 0) + Number(m[3]);
    }
    total.commands += num(stats, "total_commands_processed");
    total.cpu += num(cpu, "used_cpu_sys") + num(cpu, "used_cpu_user");
  }
  return total;
}

/** The pids of the Redis servers behind the client (INFO's process_id; local pids only if Redis runs here). */
export async function redisServerPids(r: RedisClient): Promise<number[]> {
  const infos = await Promise.all(eachServer(r).map((server) => server.info("server")));
  return infos.map((text) => Number(/^process_id:(\d+)/m.exec(text)?.[1])).filter((pid) => pid > 0);
}

export interface ProcessSet {
  /** The web server, or each instance's (--lb nginx). */
  web?: Pids;
  workers: (number | undefined)[];
  database?: number;
}

/** What the origin spent over one phase: per-second rates of Redis commands and CPU of each part. */
export interface OriginCost {
  seconds: number;
  redisCommandsPerSec: number;
  /** The commands that moved most, per second. */
  redisTop: Record<string, number>;
  /** CPU in % of one core. */
  cpu: {
    web: number;
    workers: number;
    redis: number;
    database: number | null;
    generator: number;
    other: number;
    machineBusy: number;
  };
}

export class CostMeter {
  private t0 = 0;
  private r0!: RedisCounters;
  private web0 = 0;
  private workers0 = 0;
  private self0 = 0;
  private db0 = 0;
  private m0 = machineCpuSeconds();

  constructor(
    private redis: RedisClient,
    private procs: ProcessSet,
  ) {}

  async start() {
    this.r0 = await redisCounters(this.redis);
    this.web0 = treeCpuSeconds(this.procs.web);
    this.workers0 = this.procs.workers.reduce<number>((t, p) => t + treeCpuSeconds(p), 0);
    this.self0 = selfCpu();
    this.db0 = treeCpuSeconds(this.procs.database);
    this.m0 = machineCpuSeconds();
    this.t0 = performance.now();
  }

  async stop(): Promise<OriginCost> {
    const seconds = (performance.now() - this.t0) / 1000;
    const r1 = await redisCounters(this.redis);
    const web = treeCpuSeconds(this.procs.web) - this.web0;
    const workers = this.procs.workers.reduce<number>((t, p) => t + treeCpuSeconds(p), 0) - this.workers0;
    const self = selfCpu() - this.self0;
    const database = treeCpuSeconds(this.procs.database) - this.db0;
    const m1 = machineCpuSeconds();
    const busy = m1.busy - this.m0.busy;
    const redisCpu = r1.cpu - this.r0.cpu;
    const per = (x: number) => round((x / seconds) * 100, 1);
    const top = Object.entries(r1.perCommand)
      .map(([k, v]) => [k, (v - (this.r0.perCommand[k] ?? 0)) / seconds] as const)
      .filter(([, v]) => v >= 0.5)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6);
    return {
      seconds: round(seconds),
      // The INFO readings themselves (three per server) are not counted against the origin.
      redisCommandsPerSec: round(Math.max(0, r1.commands - this.r0.commands - 3 * eachServer(this.redis).length) / seconds, 1),
      redisTop: Object.fromEntries(top.map(([k, v]) => [k, round(v, 1)])),
      cpu: {
        web: per(web),
        workers: per(workers),
        redis: per(redisCpu),
        database: this.procs.database ? per(database) : null,
        generator: per(self),
        other: per(Math.max(0, busy - web - workers - redisCpu - self - database)),
        machineBusy: per(busy),
      },
    };
  }
}

function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export async function machineInfo(r: RedisClient) {
  const server = await r.info("server");
  return {
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    redis: /^redis_version:(.+)$/m.exec(server)?.[1]?.trim() ?? "unknown",
    loadAverageAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

/**
 * On a shared machine: waits (at most `maxSeconds`) until processes other than the bench's own use
 * less than `threshold` % of a core for two seconds in a row. Returns the last reading.
 */
export async function waitForQuiet(
  procs: ProcessSet,
  redisPid: Pids,
  maxSeconds: number,
  threshold = 20,
): Promise<number> {
  const ours = () =>
    [procs.web, procs.database, redisPid, ...procs.workers].reduce<number>((t, p) => t + treeCpuSeconds(p), 0) +
    selfCpu();
  const end = Date.now() + maxSeconds * 1000;
  let quietFor = 0;
  let other = 0;
  while (Date.now() < end) {
    const m0 = machineCpuSeconds();
    const o0 = ours();
    await new Promise((r) => setTimeout(r, 1000));
    const m1 = machineCpuSeconds();
    other = Math.max(0, (m1.busy - m0.busy - (ours() - o0)) * 100);
    quietFor = other < threshold ? quietFor + 1 : 0;
    if (quietFor >= 2) break;
  }
  return round(other, 1);
}
