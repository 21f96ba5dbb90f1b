// The web process's request path (front door → hot routes → "Next.js") on a private port, with a
// stand-in for Next.js that answers 200 {"next":true}: what reaches it got past the front door.
import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { encode } from "next-auth/jwt";
import { createSessionReader } from "@/lib/auth/session-token";
import { AltchaProvider } from "@/lib/captcha/altcha";
import { PassKeys } from "@/lib/captcha/pass";
import type { CaptchaProvider } from "@/lib/captcha/provider";
import { FlashCore } from "@/lib/flash/core";
import { createHotHandler, isFlashRoute } from "@/lib/flash/hot-server";
import { verifyApiKey } from "@/lib/channels";
import { db } from "@/lib/db";
import type { Gate } from "@/lib/gate";
import { BlocklistView } from "@/lib/gate/blocklist";
import { parseEnv } from "@/lib/env";
import { rateLimitConfig } from "@/lib/gate";
import { frontDoor, serverTimeouts, type FrontDoorOptions } from "@/lib/http/front-door";
import { apiSecurityHeaders } from "@/lib/http/security-headers";
import { opsHandler, type OpsOptions } from "@/lib/ops/http";
import { redis } from "@/lib/redis";
import { RateLimits, type RateLimitConfig } from "@/lib/rate-limit";
import { TOKEN_SECRET } from "./flash";

export const SESSION_SECRET = process.env.NEXTAUTH_SECRET!;

export interface TestWeb {
  url: string;
  port: number;
  core: FlashCore;
  gate: Gate;
  sessions: ReturnType<typeof createSessionReader>;
  /** Requests that got past the front door and the hot routes. */
  nextCalls: string[];
  close(): Promise<void>;
}

/** Rate limits from the defaults of lib/env.ts, with `overrides` applied; 429s sent at once unless a test asks for the tarpit. */
export function limitsConfig(overrides: Partial<RateLimitConfig> = {}): RateLimitConfig {
  return { ...rateLimitConfig(parseEnv(process.env)), refusalDelayMs: 0, ...overrides };
}

/** Rate limits with their own Redis keys, so runs and tests never share counters. */
export function testLimits(overrides: Partial<RateLimitConfig> = {}): RateLimits {
  return new RateLimits(redis(), limitsConfig(overrides), `rl-test-${randomBytes(4).toString("hex")}`);
}

export async function startWeb(o: {
  limits?: Partial<RateLimitConfig>;
  door?: Partial<FrontDoorOptions>;
  requestTimeoutMs?: number;
  sessionCache?: { accepted?: number; rejected?: number };
  captcha?: CaptchaProvider;
  blocklist?: BlocklistView;
  ops?: OpsOptions;
} = {}): Promise<TestWeb> {
  const core = new FlashCore(redis(), TOKEN_SECRET, { stateTtlMs: 250 });
  const sessions = createSessionReader(SESSION_SECRET, o.sessionCache);
  const gate: Gate = { limits: testLimits(o.limits), passes: new PassKeys(TOKEN_SECRET, 600), captcha: o.captcha ?? new AltchaProvider(TOKEN_SECRET), blocklist: o.blocklist ?? new BlocklistView() };
  const nextCalls: string[] = [];
  const fallback = (req: http.IncomingMessage, res: http.ServerResponse) => {
    nextCalls.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ next: true }));
  };
  const door = frontDoor(
    // As scripts/server.ts: the hot routes write the security headers with their own answers.
    { maxBodyBytes: 1024 * 1024, uploadMaxBytes: 6 * 1024 * 1024, trustProxy: false, https: false, readsOwnBody: isFlashRoute, setsOwnHeaders: isFlashRoute, ...o.door },
    createHotHandler({
      core, sessions, gate, fallback, headers: apiSecurityHeaders({ https: o.door?.https ?? false }), ...(o.ops ? { ops: opsHandler(o.ops) } : {}),
      // As scripts/server.ts: partners' keys from PostgreSQL (docs/channels.md).
      partner: (key) => verifyApiKey(db(), key),
    }),
  );
  const timeout = o.requestTimeoutMs ?? 5_000;
  const server = http.createServer(serverTimeouts({ headersTimeoutMs: timeout, requestTimeoutMs: timeout }), door);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    core,
    gate,
    sessions,
    nextCalls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function sessionCookie(userId: string, role: "SHOPPER" | "ADMIN" = "SHOPPER"): Promise<string> {
  return encode({ token: { uid: userId, role, sub: userId }, secret: SESSION_SECRET }).then((t) => `next-auth.session-token=${t}`);
}

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => { code?: string; [k: string]: unknown };
}

/** One request with node:http (any method, path and headers; `body` sent as is). */
export function request(
  base: string,
  method: string,
  path: string,
  o: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers: o.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as { code?: string } });
      });
    });
    req.on("error", reject);
    req.end(o.body);
  });
}

/** Writes `raw` bytes on a socket and resolves with what the server sends until it closes or `until` matches. */
export function rawExchange(port: number, raw: string | Buffer, until = /\r\n\r\n/): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (c) => {
      got += c.toString("latin1");
      if (until.test(got)) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
    socket.write(raw);
  });
}
