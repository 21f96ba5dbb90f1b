// The web entry: one node:http server that answers the few flash-sale hot paths itself (buy, token,
// ticket, progress, time) through the shared core and hands every other request to Next.js.
// Why: a Next.js route handler costs ~1 ms of router work per request (≈800 req/s on 2 cores);
// the hot paths are where the crowd is, so they skip it and run the same lib/flash code directly.
import cluster from "node:cluster";
import http from "node:http";
import next from "next";
import { flash } from "@/lib/flash/instance";
import {
  buyReply, matchFlashRoute, progressReply, refusal, ticketReply, timeReply, tokenReply, type HttpReply,
} from "@/lib/flash/http";
import { errorText, log } from "@/lib/log";
import { NOTIFY_PATH, serveNotification } from "@/lib/payments/http";
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
  const app = next({ dev: false, hostname, port });
  const handle = app.getRequestHandler();
  await app.prepare();
  const { core, sessions } = flash();
  const webLog = log.child({ component: "web" });

  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const match = matchFlashRoute(req.method ?? "GET", q === -1 ? url : url.slice(0, q));
    const notify = req.method === "POST" ? NOTIFY_PATH.exec(q === -1 ? url : url.slice(0, q)) : null;
    if (notify) return serveNotification(req, res, notify[1]!); // payment notifications: lib/payments/http.ts
    if (!match) return void handle(req, res);
    void answer(match, req)
      .then((reply) => send(res, reply))
      .catch((e: unknown) => {
        webLog.error({ route: match.route, err: errorText(e) }, "flash route failed");
        send(res, refusal("UNAVAILABLE"));
      });
  });

  async function answer(match: NonNullable<ReturnType<typeof matchFlashRoute>>, req: http.IncomingMessage): Promise<HttpReply> {
    switch (match.route) {
      case "time":
        return timeReply();
      case "progress":
        return progressReply(core, match.activityId);
      case "token":
        return tokenReply(core, await sessions.read(req.headers.cookie, req.headers.authorization), match.activityId);
      case "ticket":
        return ticketReply(core, await sessions.read(req.headers.cookie, req.headers.authorization), match.ticketId);
      case "buy":
        // destroyOnReturn: false keeps the socket when a body is refused past its limit, so the 413 can still be sent.
        return buyReply(core, await sessions.read(req.headers.cookie, req.headers.authorization), match.activityId, {
          contentLength: req.headers["content-length"],
          chunks: req.iterator({ destroyOnReturn: false }),
        });
    }
  }

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

function send(res: http.ServerResponse, reply: HttpReply) {
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...reply.headers,
  });
  res.end(body);
}
