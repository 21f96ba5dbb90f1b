import { spawn } from "node:child_process";
import os from "node:os";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import autocannon, { type Options, type Result } from "autocannon";
import type { Shopper } from "@/bench/lib/sessions";
import { processTree } from "@/bench/lib/probes";

/** What the bots did while the honest crowd bought, and how the web process's memory moved. */
export interface BotSummary {
  /** One account on 50 connections asking for the buy token again and again. */
  flood: { requests: number; statuses: Record<string, number> };
  /** Sign-ins with wrong passwords (unknown emails and the bot's own account). */
  signIns: { attempts: number; statuses: Record<string, number> };
  /** Requests with forged bearer tokens of 8 KB, from 500 addresses. */
  forged: { requests: number; statuses: Record<string, number> };
  /** Resident memory of the web process (MiB): before the bots, right after them. */
  webRssMiB: { before: number; after: number };
}

const FORGED = 20_000;
// 8 KB of random characters; each request appends a counter, so every token is distinct.
const FORGED_PREFIX = randomBytes(6144).toString("base64url");
// The bots' own address (documentation range), read by the server when TRUST_PROXY=1 (gate on).
const BOT_ADDRESS = { "x-forwarded-for": "203.0.113.66" };
const SIGN_INS = 1_000;
// The forged tokens come from a botnet: spread over this many addresses (40 each, under the per-address
// limit on requests without a valid session), all 20,000 reach the token reader and its cache.
const FORGED_ADDRESSES = 500;
const forgedAddress = (i: number) => `198.51.${Math.floor(i / 250) % 2}.${(i % 250) + 1}`;

/** Resident memory (MiB) of the web process and the processes it started (its pages process). */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  let kB = 0;
  for (const p of processTree(pid)) {
    try {
      kB += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // gone between the listing and the read
    }
  }
  return Math.round(kB / 1024);
}

function statuses(r: Result): Record<string, number> {
  return Object.fromEntries(Object.entries(r.statusCodeStats).map(([s, v]) => [s, v.count]));
}

function cannon(o: Options<unknown>): { done: Promise<Result>; stop(): void } {
  let inst: { stop(): void } | undefined;
  const done = new Promise<Result>((resolve, reject) => {
    inst = autocannon(o, (err, res) => (err ? reject(err) : resolve(res)));
  });
  return { done, stop: () => inst?.stop() };
}

export interface BotOptions {
  baseUrl: string;
  activityId: string;
  bot: Pick<Shopper, "email" | "cookie">;
  webPid?: number;
}

/**
 * The bot scenario, run alongside the honest crowd from the start of the sale: one account flooding
 * the token route on 50 connections, 1,000 sign-ins with wrong passwords, 20,000 forged bearer tokens.
 * The bots run in a process of their own (bench/lib/bots-cli.ts), so their load generator does not
 * starve the crowd's (with --pin it inherits the generator's core, at the lowest priority). `started` resolves once their
 * loads are running. Call `stop()` when the crowd is done: every load stops then (the server's
 * tarpit may have held them well below their planned counts) and the summary comes back.
 */
export function startBots(o: BotOptions): { started: Promise<void>; stop(): Promise<BotSummary> } {
  const root = path.resolve(import.meta.dirname, "../..");
  const child = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/register.mjs", "bench/lib/bots-cli.ts", JSON.stringify(o)], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  // The bots stand for machines elsewhere: on the generator's core they must not delay the generator
  // that times the honest crowd, so they get what it leaves (lowest priority). The server sees them all.
  if (child.pid) os.setPriority(child.pid, 19);
  let out = "";
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => (ready = resolve));
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
    if (out.includes("\n")) ready();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  void exited.then(() => ready());
  return {
    started,
    async stop() {
      child.kill("SIGTERM");
      const code = await exited;
      if (code !== 0) throw new Error(`the bots exited with ${code}`);
      return JSON.parse(out.trim().split("\n").at(-1)!) as BotSummary;
    },
  };
}

/** In the bots' own process: runs them until `stopped` resolves, then returns what they did. */
export async function runBots(o: BotOptions, stopped: Promise<void>): Promise<BotSummary> {
  const before = rssMiB(o.webPid);
  const flood = cannon({
    url: o.baseUrl,
    connections: 50,
    duration: 600,
    timeout: 10,
    requests: [{ method: "GET", path: `/api/activities/${o.activityId}/token`, headers: { cookie: o.bot.cookie, ...BOT_ADDRESS } }],
  });
  let forgedSeq = 0;
  const forged = cannon({
    url: o.baseUrl,
    connections: 20,
    amount: FORGED,
    timeout: 10,
    requests: [
      {
        method: "GET",
        path: `/api/activities/${o.activityId}/token`,
        setupRequest: (req) => {
          const i = forgedSeq++;
          const headers = { "x-forwarded-for": forgedAddress(i % FORGED_ADDRESSES), authorization: `Bearer ${FORGED_PREFIX}${i.toString(36)}` };
          return { ...req, headers };
        },
      },
    ],
  });
  let over = false;
  const signIns = signInStorm(o.baseUrl, o.bot.email, () => over);
  console.log("started");
  await stopped;
  over = true;
  flood.stop();
  forged.stop();
  const [f, g, s] = await Promise.all([flood.done, forged.done, signIns]);
  return {
    flood: { requests: f.requests.total ?? 0, statuses: statuses(f) },
    signIns: s,
    forged: { requests: g.requests.total ?? 0, statuses: statuses(g) },
    webRssMiB: { before, after: rssMiB(o.webPid) },
  };
}

// next-auth's credentials flow as a script runs it: CSRF token, then the form, 16 at a time.
async function signInStorm(baseUrl: string, ownEmail: string, over: () => boolean): Promise<BotSummary["signIns"]> {
  const counts: Record<string, number> = {};
  let next = 0;
  const one = (i: number) =>
    attempt(i).catch(() => {
      // A refused or timed-out connection is an answer too (a saturated server): counted, not fatal.
      counts.error = (counts.error ?? 0) + 1;
    });
  const attempt = async (i: number) => {
    const csrf = await fetch(`${baseUrl}/api/auth/csrf`, { headers: BOT_ADDRESS });
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const jar = csrf.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const email = i % 10 === 0 ? ownEmail : `bot-${i}-${randomBytes(3).toString("hex")}@nowhere.test`;
    const res = await fetch(`${baseUrl}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { ...BOT_ADDRESS, "content-type": "application/x-www-form-urlencoded", cookie: jar },
      body: new URLSearchParams({ csrfToken, email, password: "not-the-password", json: "true" }),
      redirect: "manual",
    });
    await res.arrayBuffer();
    counts[res.status] = (counts[res.status] ?? 0) + 1;
  };
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < SIGN_INS && !over()) await one(next++);
    }),
  );
  return { attempts: next, statuses: counts };
}
