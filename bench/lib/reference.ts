import { randomBytes, randomUUID } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import autocannon, { type Result } from "autocannon";
import { serverFor, type RedisClient } from "@/lib/redis-connect";
import { META, FLAG_OFF, activityKeys } from "@/lib/flash/store";
import { ROOT, waitForHttp } from "@/scripts/lib/procs";
import { buyRequest } from "@/bench/lib/buyers";
import { redisCounters, treeCpuSeconds, type RedisCounters } from "@/bench/lib/probes";
import { REFERENCE_EPOCH } from "@/bench/lib/reference-epoch";
import { round } from "@/bench/lib/stats";

/** The reference's routes (bench/reference/server.ts). */
export type ReferencePath = "hello" | "soldout" | "admit";
export const REFERENCE_PATHS: ReferencePath[] = ["hello", "soldout", "admit"];

export interface ReferenceFigure {
  path: ReferencePath;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  latency: { p50: number; p99: number; max: number };
  /** Non-2xx answers other than the expected one, socket errors and timeouts. */
  errors: number;
  /** CPU of the reference process in % of a core, and per request. */
  cpuPercent: number;
  cpuMicrosPerRequest: number;
  /** The load generator's (this process's) CPU per request, for comparison with ours. */
  generatorMicrosPerRequest: number;
  /**
   * Redis's CPU per request (all of it: sockets, parsing, the script), and the admission script's own
   * execution time per call (INFO commandstats usec of EVALSHA), when the run passed its Redis client.
   * Absent in results before 2026-12-02 15:00.
   */
  redisMicrosPerRequest?: number;
  scriptMicrosPerCall?: number;
}

export interface ReferenceRun {
  connections: number;
  secondsPerPath: number;
  /**
   * The POST routes were sent the crowd's own session cookies, one shopper after another as the crowd
   * sends them (absent in results before 2026-12-02: no cookie).
   */
  crowdCookies?: boolean;
  figures: Partial<Record<ReferencePath, ReferenceFigure>>;
}

export interface Reference {
  child: ChildProcess;
  url: string;
  activityId: string;
  /** Resolves once the server answers; the caller holds `stop` from the start, so a failed start is cleaned up too. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

const NODE_TSX = ["--import", "tsx", "--import", "./scripts/register.mjs"];

/**
 * Starts the reference server on `port`, with a scratch activity in Redis: live, a billion units,
 * limit 1, not in the workers' active set, so nothing but the reference touches it.
 */
export function startReference(redis: RedisClient, redisUrl: string, port: number): Reference {
  const activityId = `benchref${randomBytes(6).toString("hex")}`;
  const now = Date.now();
  const scratch = redis.hset(activityKeys(activityId).meta, {
    [META.status]: "LIVE",
    [META.start]: now - 1000,
    [META.end]: now + 24 * 3600_000,
    [META.stock]: 1_000_000_000,
    [META.limit]: 1,
    [META.mode]: "ORDER",
    [META.paused]: FLAG_OFF,
    [META.seq]: 0,
    [META.epoch]: REFERENCE_EPOCH,
    [META.served]: 0,
  });
  const child = spawn(
    process.execPath,
    [...NODE_TSX, "bench/reference/server.ts", "--redis", redisUrl, "--port", String(port), "--activity", activityId],
    { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      });
    }
    await dropScratch(redis, activityId);
  };
  const ready = scratch.then(() => waitForHttp(`${url}/hello`, 60_000, child));
  return { child, url, activityId, ready, stop };
}

/** Deletes the scratch activity's keys (meta, users, idem, stream, stats and every ticket hash). */
export async function dropScratch(redis: RedisClient, activityId: string): Promise<number> {
  let cursor = "0";
  let dropped = 0;
  // On a cluster SCAN reads one server: the one holding the activity's hash tag.
  const server = serverFor(redis, `{act:${activityId}}`);
  do {
    const [next, found] = await server.scan(cursor, "MATCH", `{act:${activityId}}:*`, "COUNT", 5000);
    cursor = next;
    if (found.length) dropped += await redis.unlink(...found);
  } while (cursor !== "0");
  return dropped;
}

/** Redis's CPU per request over a pass, and EVALSHA's execution time per call (none on a route without scripts). */
function redisShare(a: RedisCounters, b: RedisCounters, responses: number) {
  const calls = (b.perCommand.evalsha ?? 0) - (a.perCommand.evalsha ?? 0);
  const usec = (b.usecPerCommand.evalsha ?? 0) - (a.usecPerCommand.evalsha ?? 0);
  return {
    redisMicrosPerRequest: round(((b.cpu - a.cpu) * 1e6) / responses, 1),
    // A few scripts of the bench's own stack (idle workers, pollers) run beside the pass: only a route whose every request runs one is read.
    ...(calls >= responses ? { scriptMicrosPerCall: round(usec / calls, 1) } : {}),
  };
}

/**
 * Drives each route of the reference with the storefront's load-generator settings (connections,
 * keep-alive, closed loop) for `seconds`, metering the reference process's CPU from /proc.
 */
export async function runReference(
  ref: Reference,
  o: { connections: number; seconds: number; routes?: ReferencePath[]; cookies?: string[]; redis?: RedisClient },
): Promise<ReferenceRun> {
  const figures: ReferenceRun["figures"] = {};
  // The same body shape (and about the same size) as the buy button's POST.
  const token = randomBytes(48).toString("base64url");
  // And the same headers: each POST carries the next shopper's session cookie, as the crowd's clicks do.
  // The reference reads none of it, but the load generator and node:http handle its bytes (a 500-byte
  // cookie costs autocannon about a fifth more per request), so ours and the reference's requests match.
  const cookies = o.cookies?.length ? o.cookies : null;
  let shopper = 0;
  for (const path of o.routes ?? REFERENCE_PATHS) {
    const post = path !== "hello";
    const expected = { hello: 200, soldout: 410, admit: 202 }[path];
    let unexpected = 0;
    let responses = 0;
    let first = 0;
    let last = 0;
    const redis0 = o.redis ? await redisCounters(o.redis) : null;
    const cpu0 = treeCpuSeconds(ref.child.pid);
    const self0 = process.cpuUsage();
    const result = await new Promise<Result>((resolve, reject) => {
      const inst = autocannon(
        {
          url: ref.url,
          connections: o.connections,
          duration: o.seconds,
          timeout: 10,
          sampleInt: 100,
          requests: [
            {
              method: post ? "POST" : "GET",
              path: `/${path}`,
              setupRequest: (req) => {
                if (!first) first = performance.now();
                if (!post) return req;
                // The crowd's request (bench/lib/buyers.ts), set on autocannon's copy as the crowd's is.
                const buy = buyRequest(cookies ? cookies[shopper++ % cookies.length] : undefined, 1, randomUUID(), token);
                req.headers = buy.headers;
                req.body = buy.body;
                return req;
              },
              onResponse: (status) => {
                responses++;
                last = performance.now();
                if (status !== expected) unexpected++;
              },
            },
          ],
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
      void inst;
    });
    const seconds = last > first ? (last - first) / 1000 : result.duration;
    const cpu = treeCpuSeconds(ref.child.pid) - cpu0;
    const self = process.cpuUsage(self0);
    const redis1 = o.redis ? await redisCounters(o.redis) : null;
    figures[path] = {
      path,
      seconds: round(seconds, 3),
      requests: responses,
      requestsPerSec: round(responses / seconds, 0),
      latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      errors: unexpected + result.errors + result.timeouts,
      cpuPercent: round((cpu / seconds) * 100, 1),
      cpuMicrosPerRequest: responses ? round((cpu * 1e6) / responses, 1) : 0,
      generatorMicrosPerRequest: responses ? round((self.user + self.system) / responses, 1) : 0,
      ...(redis0 && redis1 && responses ? redisShare(redis0, redis1, responses) : {}),
    };
  }
  return { connections: o.connections, secondsPerPath: o.seconds, crowdCookies: cookies !== null, figures };
}
