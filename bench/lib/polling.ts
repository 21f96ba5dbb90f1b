import autocannon, { type Result } from "autocannon";
import type { RedisClient } from "@/lib/redis-connect";
import { CostMeter, treeCpuSeconds, type OriginCost, type ProcessSet } from "@/bench/lib/probes";
import { round } from "@/bench/lib/stats";

export interface PollLevel {
  pollers: number;
  via: "origin" | "edge";
  /** One progress request per poller per second, as the buy panel polls before the sale sells out. */
  offeredPerSec: number;
  achievedPerSec: number;
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  /** Requests that reached the origin per second (edge: its misses and refreshes). */
  originRequestsPerSec: number;
  origin: OriginCost;
  edgeCpu?: number;
}

/**
 * N shoppers waiting on the sale page, each polling the shared progress every second, sent either
 * straight at the origin or through an edge cache that honours the origin's Cache-Control.
 * The offered rate is N/s; a single load generator on this box cannot offer more than it can send,
 * so the achieved rate is reported next to it.
 */
export async function pollLevel(o: {
  url: string;
  pollers: number;
  seconds: number;
  via: "origin" | "edge";
  redis: RedisClient;
  procs: ProcessSet;
  edge?: { statsUrl: string; pid?: number };
  /** Closed loop over this many connections (as fast as answers come) instead of N polls a second. */
  closedLoop?: { connections: number };
}): Promise<PollLevel> {
  const meter = new CostMeter(o.redis, o.procs);
  const edgeBefore = o.edge ? await edgeStats(o.edge.statsUrl) : undefined;
  const edgeCpu0 = treeCpuSeconds(o.edge?.pid);
  await meter.start();
  // autocannon sends each connection's per-second quota at the start of every second, so the rate is
  // counted over whole seconds: answers received in the first `seconds` seconds.
  let inWindow = 0;
  const result = await new Promise<Result>((resolve, reject) => {
    const t0 = performance.now();
    const inst = autocannon(
      {
        url: o.url,
        ...(o.closedLoop
          ? { connections: o.closedLoop.connections }
          : { connections: Math.min(100, o.pollers), overallRate: o.pollers }),
        duration: o.seconds + 0.3,
        timeout: 10,
        sampleInt: 100,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    inst.on("response", () => {
      if (performance.now() - t0 < o.seconds * 1000) inWindow++;
    });
  });
  const origin = await meter.stop();
  const edgeAfter = o.edge ? await edgeStats(o.edge.statsUrl) : undefined;
  const completed = result["2xx"] + result.non2xx;
  const originRequests = edgeBefore && edgeAfter ? edgeAfter.originRequests - edgeBefore.originRequests : completed;
  return {
    pollers: o.pollers,
    via: o.via,
    offeredPerSec: o.closedLoop ? round(inWindow / o.seconds, 0) : o.pollers,
    achievedPerSec: round(inWindow / o.seconds, 0),
    latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    originRequestsPerSec: round(originRequests / origin.seconds, 1),
    origin,
    ...(o.edge ? { edgeCpu: round(((treeCpuSeconds(o.edge.pid) - edgeCpu0) / origin.seconds) * 100, 1) } : {}),
  };
}

async function edgeStats(url: string): Promise<{ originRequests: number; hits: number }> {
  return (await (await fetch(url)).json()) as { originRequests: number; hits: number };
}
