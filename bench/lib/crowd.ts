import http from "node:http";
import { Cluster } from "ioredis";
import { setTimeout as sleep } from "node:timers/promises";
import { createBenchActivity } from "@/bench/lib/activity";
import { rssMiB, startBots, type BotSummary } from "@/bench/lib/bots";
import { withPasses, type Shopper } from "@/bench/lib/sessions";
import { Samples, type LatencySummary } from "@/bench/lib/stats";
import { treeCpuSeconds } from "@/bench/lib/probes";
import type { PassKeys } from "@/lib/captcha/pass";
import { RATE_LIMIT_PREFIX } from "@/lib/flash/store/layout";
import { redis } from "@/lib/redis";

// The bot scenario measured honestly: a crowd that ARRIVES at a fixed rate below saturation (a
// real crowd is an arrival process, not a closed loop that slows down when the server does), in
// windows of the same length without and with the bots, alternating in the same invocation. A
// click's latency runs from its scheduled arrival to the order's answer, so a stalled server is
// charged for the clicks that could not even start.

export interface CrowdWindow {
  bots: boolean;
  clicks: number;
  /** Clicks whose order was answered 202 (admitted). */
  admitted: number;
  /** Answers other than 202 to the order, or failures of the token step, by status. */
  other: Record<string, number>;
  /** From the click's scheduled arrival to the order's answer (token + order), ms. */
  click: LatencySummary;
  /** The click's parts, ms: from its scheduled arrival to its first byte sent (the generator's own lag), the token's answer, the order's answer. */
  phases: { start: LatencySummary; token: LatencySummary; order: LatencySummary };
  /** CPU seconds of the web process over the window. */
  webCpuS: number;
}

/** Pairs of windows (without, with the bots): the ratio is their median. */
export const BOT_PAIRS = 3;

/** Fresh shoppers for every click of every window, and the bot account. */
export const botShoppersNeeded = (rate: number, seconds: number) => Math.round(rate * seconds) * 2 * BOT_PAIRS + 1;

export interface BotScenarioResult {
  activityId: string;
  rate: number;
  seconds: number;
  windows: CrowdWindow[];
  bots: BotSummary[];
  /** The honest crowd's click p99 with bots ÷ without (median of the pairs). */
  p99Ratio: number;
  /** Web process resident memory (MiB): before the first window, after the last, and 5 s later. */
  webRssMiB: { before: number; after: number; settled: number };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function call(base: URL, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.end(body);
  });
}

interface PhaseSamples { start: Samples; token: Samples; order: Samples }

/** One arrival: what the buy button does (token, then the order); each part's time goes into `phases`. */
async function click(base: URL, activityId: string, s: Shopper, at: number, phases: PhaseSamples): Promise<string> {
  const t0 = performance.now();
  phases.start.add(t0 - at);
  const t = await call(base, "GET", `/api/activities/${activityId}/token`, { cookie: s.cookie });
  const t1 = performance.now();
  phases.token.add(t1 - t0);
  if (t.status !== 200) return `token ${t.status}`;
  const { token } = JSON.parse(t.body) as { token: string };
  const body = JSON.stringify({ quantity: 1, idempotencyKey: crypto.randomUUID(), token });
  const o = await call(base, "POST", `/api/activities/${activityId}/orders`, { cookie: s.cookie, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }, body);
  phases.order.add(performance.now() - t1);
  return o.status === 202 ? "202" : `order ${o.status}`;
}

async function crowdWindow(base: URL, activityId: string, shoppers: Shopper[], rate: number, seconds: number, webPid: number | undefined, bots: boolean): Promise<CrowdWindow> {
  const samples = new Samples();
  const phases: PhaseSamples = { start: new Samples(), token: new Samples(), order: new Samples() };
  const other: Record<string, number> = {};
  let admitted = 0;
  const n = Math.min(shoppers.length, Math.round(rate * seconds));
  const cpu0 = treeCpuSeconds(webPid);
  const t0 = performance.now() + 20;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      click(base, activityId, shoppers[i]!, at, phases).then((outcome) => {
        samples.add(performance.now() - at);
        if (outcome === "202") admitted++;
        else other[outcome] = (other[outcome] ?? 0) + 1;
      }),
    );
  }
  await Promise.all(pending);
  return {
    bots, clicks: n, admitted, other, click: samples.summary(),
    phases: { start: phases.start.summary(), token: phases.token.summary(), order: phases.order.summary() },
    webCpuS: Math.round((treeCpuSeconds(webPid) - cpu0) * 100) / 100 };
}

export async function runBotScenario(o: {
  baseUrl: string;
  shoppers: Shopper[];
  gate?: PassKeys;
  webPid?: number;
  rate: number;
  seconds: number;
  log: (line: string) => void;
}): Promise<BotScenarioResult> {
  const base = new URL(o.baseUrl);
  const perWindow = Math.round(o.rate * o.seconds);
  // Every click a fresh shopper (each clicks once, as at a sale), the bot account last.
  const need = botShoppersNeeded(o.rate, o.seconds);
  if (o.shoppers.length < need) throw new Error(`bots scenario: ${need} shoppers needed, ${o.shoppers.length} seeded (--shoppers)`);
  // Every invocation meets the bots afresh: lockouts from an earlier run (they last up to a day) would
  // refuse their sign-ins before any password check and flatter the figure.
  await forgetRateLimits();
  const a = await createBenchActivity("bots", { stock: need * 2, limit: 1, leadMs: 2000, humanCheck: !!o.gate });
  const shoppers = o.gate ? withPasses(o.gate, a.id, o.shoppers.slice(0, need)) : o.shoppers.slice(0, need);
  const bot = shoppers[need - 1]!;
  await sleep(Math.max(0, a.startMs + 1 - Date.now()));
  const before = rssMiB(o.webPid);
  const windows: CrowdWindow[] = [];
  const summaries: BotSummary[] = [];
  let next = 0;
  for (let p = 0; p < BOT_PAIRS; p++) {
    for (const withBots of [false, true]) {
      const crowd = shoppers.slice(next, next + perWindow);
      next += perWindow;
      const bots = withBots ? startBots({ baseUrl: o.baseUrl, activityId: a.id, bot, webPid: o.webPid }) : null;
      if (bots) await bots.started;
      o.log(`bots: ${crowd.length} honest clicks at ${o.rate}/s for ${o.seconds} s ${withBots ? "WITH the bots" : "without bots"}`);
      windows.push(await crowdWindow(base, a.id, crowd, o.rate, o.seconds, o.webPid, withBots));
      if (bots) summaries.push(await bots.stop());
    }
  }
  const after = rssMiB(o.webPid);
  await sleep(5000);
  const settled = rssMiB(o.webPid);
  const ratios = [];
  for (let i = 0; i + 1 < windows.length; i += 2) ratios.push(windows[i + 1]!.click.p99 / Math.max(0.001, windows[i]!.click.p99));
  ratios.sort((x, y) => x - y);
  const p99Ratio = Math.round(ratios[Math.floor((ratios.length - 1) / 2)]! * 100) / 100;
  return { activityId: a.id, rate: o.rate, seconds: o.seconds, windows, bots: summaries, p99Ratio, webRssMiB: { before, after, settled } };
}

async function forgetRateLimits() {
  const client = redis();
  for (const node of client instanceof Cluster ? client.nodes("master") : [client]) {
    const stream = node.scanStream({ match: `${RATE_LIMIT_PREFIX}:*`, count: 1000 });
    // One DEL per key (on a cluster the keys of a page sit in different slots), a page at a time.
    for await (const keys of stream as AsyncIterable<string[]>) await Promise.all(keys.map((k) => client.del(k)));
  }
}

export function printBotScenario(r: BotScenarioResult, log: (line: string) => void) {
  log(`bots: the honest crowd arrives at ${r.rate} clicks/s (token + order each), ${r.seconds} s windows, alternating without/with bots`);
  log("  window        clicks  admitted  click p50   p95      p99      max      web CPU  other answers");
  for (const w of r.windows) {
    const f = (n: number) => `${n.toFixed(1)} ms`.padEnd(9);
    log(`  ${(w.bots ? "with bots" : "quiet").padEnd(13)} ${String(w.clicks).padEnd(7)} ${String(w.admitted).padEnd(9)} ${f(w.click.p50)} ${f(w.click.p95)}${f(w.click.p99)}${f(w.click.max)}${`${w.webCpuS} s`.padEnd(9)}${JSON.stringify(w.other)}`);
    log(`    p50 / p99 of its parts: start lag ${w.phases.start.p50} / ${w.phases.start.p99} ms, token ${w.phases.token.p50} / ${w.phases.token.p99} ms, order ${w.phases.order.p50} / ${w.phases.order.p99} ms`);
  }
  for (const b of r.bots) {
    log(`  bots answered: flood ${b.flood.requests} ${JSON.stringify(b.flood.statuses)}; sign-ins ${b.signIns.attempts} ${JSON.stringify(b.signIns.statuses)}; forged ${b.forged.requests} ${JSON.stringify(b.forged.statuses)}`);
  }
  log(`  honest click p99 with bots / without: ${r.p99Ratio}× (median of the pairs; target ≤ 1.2×)`);
  log(`  web RSS (with its pages process): ${r.webRssMiB.before} MiB before, ${r.webRssMiB.after} MiB after the bots, ${r.webRssMiB.settled} MiB 5 s later`);
}
