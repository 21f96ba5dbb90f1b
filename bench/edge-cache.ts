// A stand-in for a CDN edge in front of the origin, for the polling phase of the bench:
//   tsx bench/edge-cache.ts --origin http://127.0.0.1:3300 --port 3301
// Caches GET 200 answers marked `public` for their s-maxage (else max-age), serves them stale for
// stale-while-revalidate while one request refreshes them, and collapses concurrent misses into one
// origin request, as CDNs do. Anything not cacheable is passed through. GET /__edge/stats: counters.
import http from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { origin: { type: "string" }, port: { type: "string" } } });
if (!values.origin || !values.port) {
  console.error("usage: edge-cache.ts --origin URL --port N");
  process.exit(2);
}
const origin = new URL(values.origin);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

interface Entry {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
  freshUntil: number;
  staleUntil: number;
}
const cache = new Map<string, Entry>();
const inflight = new Map<string, Promise<Entry>>();
const stats = { hits: 0, stale: 0, misses: 0, passes: 0, originRequests: 0 };

function fetchOrigin(req: http.IncomingMessage, body?: Buffer): Promise<Entry> {
  stats.originRequests++;
  return new Promise((resolve, reject) => {
    const out = http.request(
      {
        host: origin.hostname,
        port: origin.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: origin.host },
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const headers = { ...res.headers };
          delete headers.connection;
          delete headers["keep-alive"];
          delete headers["transfer-encoding"];
          const cc = String(res.headers["cache-control"] ?? "");
          const sMax = /s-maxage=(\d+)/.exec(cc)?.[1] ?? /max-age=(\d+)/.exec(cc)?.[1];
          const swr = Number(/stale-while-revalidate=(\d+)/.exec(cc)?.[1] ?? 0);
          const cacheable =
            req.method === "GET" && res.statusCode === 200 && /\bpublic\b/.test(cc) && sMax !== undefined;
          const now = Date.now();
          const ttl = cacheable ? Number(sMax) * 1000 : 0;
          resolve({
            status: res.statusCode ?? 502,
            headers,
            body: Buffer.concat(chunks),
            freshUntil: now + ttl,
            staleUntil: now + ttl + (cacheable ? swr * 1000 : 0),
          });
        });
      },
    );
    out.on("error", reject);
    out.end(body);
  });
}

function refresh(key: string, req: http.IncomingMessage): Promise<Entry> {
  let p = inflight.get(key);
  if (!p) {
    p = fetchOrigin(req).then((e) => {
      if (e.freshUntil > Date.now()) cache.set(key, e);
      return e;
    });
    p.finally(() => inflight.delete(key)).catch(() => undefined);
    inflight.set(key, p);
  }
  return p;
}

function send(res: http.ServerResponse, e: Entry, state: string) {
  res.writeHead(e.status, { ...e.headers, "x-edge-cache": state, "content-length": e.body.length });
  res.end(e.body);
}

const server = http.createServer((req, res) => {
  if (req.url === "/__edge/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ ...stats, pid: process.pid }));
  }
  const key = req.url ?? "/";
  const now = Date.now();
  const hit = req.method === "GET" && !req.headers.cookie ? cache.get(key) : undefined;
  if (hit && now < hit.freshUntil) {
    stats.hits++;
    return send(res, hit, "HIT");
  }
  if (hit && now < hit.staleUntil) {
    stats.stale++;
    void refresh(key, req).catch(() => undefined);
    return send(res, hit, "STALE");
  }
  if (req.method === "GET" && !req.headers.cookie) {
    stats.misses++;
    refresh(key, req).then(
      (e) => send(res, e, "MISS"),
      () => void res.writeHead(502).end(),
    );
    return;
  }
  stats.passes++;
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () =>
    fetchOrigin(req, Buffer.concat(chunks)).then(
      (e) => send(res, e, "PASS"),
      () => void res.writeHead(502).end(),
    ),
  );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), "127.0.0.1", () =>
  console.log(`[edge] ${process.pid} caching ${origin.origin} on :${values.port}`),
);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(0));
