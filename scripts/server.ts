// The web entry: one node:http server that answers the few flash-sale hot paths itself (buy, token,
// ticket, progress, time) through the shared core and passes every other request to Next.js, which
// runs in a pages process of its own (started here, on a Unix socket, at a lower CPU priority).
// Why: a Next.js route handler costs ~1 ms of router work per request (≈800 req/s on 2 cores);
// the hot paths are where the crowd is, so they skip it and run the same lib/flash code directly.
// And Next.js in the same process made every hot request pay its async hooks, and its bursts of work
// (sign-ins, renders) held the hot routes' event loop: in a process of its own it holds neither.
import cluster from "node:cluster";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { flash } from "@/lib/flash/instance";
import { verifyApiKey } from "@/lib/channels";
import { createHotHandler, isFlashRoute } from "@/lib/flash/hot-server";
import { refuseLockedSignIn } from "@/lib/auth/sign-in";
import { gate } from "@/lib/gate";
import { frontDoor, serverTimeouts } from "@/lib/http/front-door";
import { apiSecurityHeaders, contentSecurityPolicy, HCAPTCHA_ORIGINS } from "@/lib/http/security-headers";
import { hashInlineScripts } from "@/lib/http/inline-script-csp";
import { proxyTo } from "@/lib/http/proxy";
import { MAX_IMAGE_BYTES } from "@/lib/admin/uploads";
import { NOTIFY_PATH, serveNotification } from "@/lib/payments/http";
import { opsHandler } from "@/lib/ops/http";
import { observePagesAnswer, watchStreams } from "@/lib/ops/metrics";
import { redis } from "@/lib/redis";
import { NEXT_CACHE_FACTORY, redisCacheHandler } from "@/lib/next-cache";
import { preflight, readSettings } from "@/scripts/lib/preflight";
import { pagesDirPrefix, sweepPagesDirs } from "@/scripts/lib/pages-dirs";

const { PORT: port, HOST: hostname, WEB_CONCURRENCY: workers, WEB_PAGES_NICE: pagesNice } = readSettings("web");
/** Set in the pages process's environment: the Unix socket it serves Next.js on. */
const PAGES_SOCKET = "FLASH_PAGES_SOCKET";

if (process.env[PAGES_SOCKET]) {
  await servePages(process.env[PAGES_SOCKET]);
} else if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (w, code, signal) => {
    if (!shuttingDown) {
      console.error(`[web] worker ${w.process.pid} died (${signal ?? code}); starting another`);
      cluster.fork();
    }
  });
  let shuttingDown = false;
  const stop = () => {
    shuttingDown = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} else {
  await serve();
}

async function serve() {
  await preflight("web"); // before taking traffic
  const pages = startPages();
  const { core, sessions } = flash();

  const e = env();
  const captchaOrigins = captchaOriginsOf(e);
  // Everything but the hot routes: payment notifications (lib/payments/http.ts, read raw for their
  // signatures), then the pages process (Next.js).
  const toPages = proxyTo(pages.socket, observePagesAnswer);
  const fallback = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const notify = req.method === "POST" ? NOTIFY_PATH.exec(q === -1 ? url : url.slice(0, q)) : null;
    if (notify) return serveNotification(req, res, notify[1]!);
    toPages(req, res);
  };
  watchStreams(redis());
  const ops = opsHandler({
    metricsToken: e.METRICS_TOKEN,
    checks: {
      postgres: () => db().$queryRaw`SELECT 1`,
      redis: () => redis().ping(),
      pages: async () => {
        if (!pages.socket()) throw new Error("the pages process is not up");
      },
    },
  });
  const security = {
    https: e.NEXTAUTH_URL?.startsWith("https:") ?? false,
    captchaOrigins,
  };
  // The hot routes write the security headers with their own answers (prebuilt lists, one writeHead).
  const hot = createHotHandler({
    core, sessions, gate: gate(), fallback, ops, headers: apiSecurityHeaders(security),
    partner: (key) => verifyApiKey(db(), key),
  });
  const door = frontDoor(
    {
      maxBodyBytes: e.HTTP_MAX_BODY_BYTES,
      uploadMaxBytes: MAX_IMAGE_BYTES + 64 * 1024,
      trustProxy: e.TRUST_PROXY,
      ...security,
      readsOwnBody: isFlashRoute,
      setsOwnHeaders: isFlashRoute,
      refuseEarly: refuseLockedSignIn(gate().limits, e.NEXTAUTH_URL ?? `http://localhost:${port}`),
    },
    hot,
  );
  const server = createServer(e, door);
  // Pages first: a server that answers /api/time is ready for a browser too.
  await pages.ready;
  server.listen(port, hostname, () => {
    console.log(`[web] ${process.pid} listening on http://${hostname === "0.0.0.0" ? "localhost" : hostname}:${port}`);
  });
  stopOnSignals(server, pages.stop);
  process.on("exit", () => pages.stop());
}

/**
 * This web process's pages process: the same program with PAGES_SOCKET set, under `nice` (WEB_PAGES_NICE)
 * so that on a busy core the hot routes go first. Restarted a second after it dies; until it is up the
 * proxy answers 503. The first start must succeed: a pages process that cannot start stops this one.
 */
function startPages(): { socket: () => string | null; ready: Promise<void>; stop: () => void } {
  sweepPagesDirs();
  // 0700: only this user can reach the socket. The pid in the name lets a later start remove it if this process is killed.
  const dir = mkdtempSync(path.join(os.tmpdir(), pagesDirPrefix(process.pid)));
  const socketPath = path.join(dir, "pages.sock");
  let child: ChildProcess | undefined;
  let up = false;
  let stopping = false;
  let started = false;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const launch = () => {
    const node = [process.execPath, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)];
    const [cmd, ...args] = pagesNice > 0 ? ["nice", "-n", String(pagesNice), ...node] : node;
    child = spawn(cmd!, args, { env: { ...process.env, [PAGES_SOCKET]: socketPath }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.on("message", (m: PagesMessage) => {
      // Sign-in runs in the pages process; its lockouts are refused here, before Next.js (lib/auth/sign-in.ts).
      if (m?.signInLocked) return gate().limits.signInLockedElsewhere(m.signInLocked.ip, m.signInLocked.ms);
      if (!m?.pagesReady) return;
      up = started = true;
      markReady();
    });
    child.on("exit", (code, signal) => {
      up = false;
      if (stopping) return;
      if (!started) {
        console.error(`[web] the pages process exited before it was ready (${signal ?? code})`);
        process.exit(1);
      }
      console.error(`[web] the pages process exited (${signal ?? code}); starting another`);
      setTimeout(launch, 1000).unref();
    });
  };
  launch();
  return {
    socket: () => (up ? socketPath : null),
    ready,
    stop: () => {
      if (stopping) return;
      stopping = true;
      child?.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The pages process: Next.js on a Unix socket; its HTML leaves with its inline scripts' hashes in the CSP. */
async function servePages(socketPath: string) {
  // Next.js's cache handler (lib/next-cache-handler.mjs) takes its Redis part from here: see NEXT_CACHE_FACTORY.
  Object.assign(globalThis, { [NEXT_CACHE_FACTORY]: redisCacheHandler });
  // The gate lives on globalThis, so Next.js's sign-in route uses this one: its lockouts go to the web process.
  gate().limits.onSignInLock = (ip, ms) => process.send?.({ signInLocked: { ip, ms } } satisfies PagesMessage);
  // Imported here only: loading Next.js patches process-wide globals (timers, fetch, async storage).
  const { default: next } = await import("next");
  const app = next({ dev: false, hostname, port });
  const handle = app.getRequestHandler();
  await app.prepare();
  const e = env();
  const captchaOrigins = captchaOriginsOf(e);
  const pagePolicy = (hashes: string[]) => contentSecurityPolicy(captchaOrigins, hashes);
  // The web process's front door has checked the request (limits, client address, security headers).
  const server = createServer(e, (req, res) => {
    hashInlineScripts(res, pagePolicy);
    void handle(req, res);
  });
  try {
    unlinkSync(socketPath); // left by a pages process that was killed
  } catch {}
  server.listen(socketPath, () => process.send?.({ pagesReady: true }));
  // The web process is gone (even after kill -9, its end of the channel closes): so is this one.
  process.on("disconnect", () => process.exit(0));
  stopOnSignals(server);
}

/** What a pages process tells its web process over the IPC channel. */
type PagesMessage = { pagesReady?: boolean; signInLocked?: { ip: string; ms: number } };

// Declarations, not consts: the top of this module awaits serve() before it reaches them.
function captchaOriginsOf(e: ReturnType<typeof env>): readonly string[] {
  return e.CAPTCHA_PROVIDER === "hcaptcha" ? HCAPTCHA_ORIGINS : [];
}

/** Both processes' servers: Node's header and request deadlines, keep-alive longer than a balancer's. */
function createServer(e: ReturnType<typeof env>, handler: http.RequestListener): http.Server {
  const server = http.createServer(serverTimeouts({ headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS }), handler);
  server.keepAliveTimeout = 65_000;
  return server;
}

/** On SIGINT or SIGTERM: stop taking connections, let requests in flight finish (5 s at most), exit. */
function stopOnSignals(server: http.Server, beforeExit?: () => void) {
  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    beforeExit?.();
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
