// The web entry: one node:http server that answers the few flash-sale hot paths itself (buy, token,
// ticket, progress, time) through the shared core and hands every other request to Next.js.
// Why: a Next.js route handler costs ~1 ms of router work per request (≈800 req/s on 2 cores);
// the hot paths are where the crowd is, so they skip it and run the same lib/flash code directly.
import cluster from "node:cluster";
import http from "node:http";
import next from "next";
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
import { MAX_IMAGE_BYTES } from "@/lib/admin/uploads";
import { NOTIFY_PATH, serveNotification } from "@/lib/payments/http";
import { opsHandler } from "@/lib/ops/http";
import { watchStreams } from "@/lib/ops/metrics";
import { redis } from "@/lib/redis";
import { NEXT_CACHE_FACTORY, redisCacheHandler } from "@/lib/next-cache";
import { preflight, readSettings } from "@/scripts/lib/preflight";

const { PORT: port, HOST: hostname, WEB_CONCURRENCY: workers } = readSettings("web");

if (cluster.isPrimary && workers > 1) {
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
  // Next.js's cache handler (lib/next-cache-handler.mjs) takes its Redis part from here: see NEXT_CACHE_FACTORY.
  Object.assign(globalThis, { [NEXT_CACHE_FACTORY]: redisCacheHandler });
  const app = next({ dev: false, hostname, port });
  const handle = app.getRequestHandler();
  await app.prepare();
  const { core, sessions } = flash();

  const e = env();
  const captchaOrigins = e.CAPTCHA_PROVIDER === "hcaptcha" ? HCAPTCHA_ORIGINS : [];
  const pagePolicy = (hashes: string[]) => contentSecurityPolicy(captchaOrigins, hashes);
  // Everything but the hot routes: payment notifications (lib/payments/http.ts, read raw for their
  // signatures), then Next.js, whose HTML leaves with its inline scripts' hashes in the CSP.
  const fallback = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const notify = req.method === "POST" ? NOTIFY_PATH.exec(q === -1 ? url : url.slice(0, q)) : null;
    if (notify) return serveNotification(req, res, notify[1]!);
    hashInlineScripts(res, pagePolicy);
    void handle(req, res);
  };
  watchStreams(redis());
  const ops = opsHandler({
    metricsToken: e.METRICS_TOKEN,
    checks: { postgres: () => db().$queryRaw`SELECT 1`, redis: () => redis().ping() },
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
  const server = http.createServer(
    serverTimeouts({ headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS }),
    door,
  );

  server.keepAliveTimeout = 65_000;
  server.listen(port, hostname, () => {
    console.log(`[web] ${process.pid} listening on http://${hostname === "0.0.0.0" ? "localhost" : hostname}:${port}`);
  });
  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
