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
import { NOTIFY_PATH, serveNotification } from "@/lib/payments/http";
import { preflight } from "@/scripts/lib/preflight";

const port = Number(process.env.PORT ?? 3000);
// HOST, not HOSTNAME: shells and containers set HOSTNAME to the machine name.
const hostname = process.env.HOST ?? "0.0.0.0";
const workers = Number(process.env.WEB_CONCURRENCY ?? 1);
const MAX_BODY = 4096;

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
        console.error("[web] flash route failed:", e instanceof Error ? e.message : e);
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
      case "buy": {
        const body = await readJson(req);
        if (body === TOO_LARGE) return { status: 413, body: { code: "BAD_INPUT" } };
        if (body === undefined) return refusal("BAD_INPUT");
        return buyReply(core, await sessions.read(req.headers.cookie, req.headers.authorization), match.activityId, body);
      }
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

const TOO_LARGE = Symbol("too large");

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      // Past the limit the rest is drained unread, so the 413 can still be sent on this connection.
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => {
      if (size > MAX_BODY) return resolve(TOO_LARGE);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        resolve(undefined);
      }
    });
    req.on("error", () => resolve(undefined));
  });
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
