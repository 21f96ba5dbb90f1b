import "server-only";
import { createHash, timingSafeEqual } from "node:crypto";
import type http from "node:http";
import { errorText, log } from "@/lib/log";
import { metricsRegistry } from "@/lib/ops/metrics";

/** A dependency readiness waits for; rejects (or times out) when it does not answer. */
export type ReadyCheck = () => Promise<unknown>;

export interface OpsOptions {
  /** Bearer token /metrics requires; unset: /metrics answers 404. */
  metricsToken?: string;
  /** Named checks /readyz runs (PostgreSQL, Redis); all must answer within `readyTimeoutMs`. */
  checks: Record<string, ReadyCheck>;
  readyTimeoutMs?: number;
}

const logger = log.child({ component: "ops" });
const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The operations endpoints: GET /healthz (the process answers), GET /readyz (every dependency
 * answers; 503 otherwise) and GET /metrics (Prometheus text, bearer token only). Returns a handler
 * that answers one of these and returns true, or returns false and leaves the request alone.
 */
export function opsHandler(o: OpsOptions): (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => boolean {
  const want = o.metricsToken ? digest(o.metricsToken) : null;
  const timeoutMs = o.readyTimeoutMs ?? 2_000;
  return (req, res, pathname) => {
    if (pathname !== "/healthz" && pathname !== "/readyz" && pathname !== "/metrics") return false;
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (pathname === "/healthz") {
      send(res, 200, { status: "ok" });
    } else if (pathname === "/readyz") {
      void ready(o.checks, timeoutMs).then((r) => send(res, r.ok ? 200 : 503, r));
    } else if (!want) {
      send(res, 404, { code: "NOT_FOUND" });
    } else {
      const auth = req.headers.authorization ?? "";
      const given = auth.startsWith("Bearer ") ? digest(auth.slice(7)) : null;
      if (!given || !timingSafeEqual(given, want)) {
        res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" });
        res.end(JSON.stringify({ code: "UNAUTHENTICATED" }));
      } else {
        metricsRegistry.metrics().then(
          (text) => {
            res.writeHead(200, { "content-type": metricsRegistry.contentType, "cache-control": "no-store" });
            res.end(text);
          },
          (e: unknown) => {
            logger.error({ err: errorText(e) }, "collecting metrics failed");
            send(res, 500, { code: "UNAVAILABLE" });
          },
        );
      }
    }
    return true;
  };
}

async function ready(checks: Record<string, ReadyCheck>, timeoutMs: number) {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs))),
        ]);
        return [name, "ok"] as const;
      } catch (e) {
        logger.warn({ check: name, err: errorText(e) }, "not ready");
        return [name, "down"] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ok: results.every(([, s]) => s === "ok"), checks: Object.fromEntries(results) };
}

function send(res: http.ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
