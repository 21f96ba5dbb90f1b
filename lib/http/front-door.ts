import type http from "node:http";
import { securityHeaders, type SecurityHeaderOptions } from "@/lib/http/security-headers";

// The first thing every request meets in the web process, before the hot routes or Next.js:
// hostile methods, URLs and bodies are answered here with a 4xx, so nothing behind sees them.

/** Set by the front door from the socket (or a trusted proxy); a client-sent value is discarded. */
export const CLIENT_IP_HEADER = "x-flash-client-ip";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export interface FrontDoorOptions {
  /** Largest body for anything but uploads. */
  maxBodyBytes: number;
  /** Largest body for POST /api/admin/uploads (images up to 5 MB, plus multipart framing). */
  uploadMaxBytes: number;
  trustProxy: boolean;
  /** The public URL is https: send HSTS. */
  https: boolean;
  captchaOrigins?: SecurityHeaderOptions["captchaOrigins"];
  /**
   * A refusal decided before any route runs (e.g. sign-in from an address locked out in this
   * process): status, JSON body and headers, or null to go on.
   */
  refuseEarly?: (method: string, pathname: string, ip: string) => { status: number; body: unknown; headers?: Record<string, string>; delayMs?: number } | null;
  /** Routes that read their body as a stream against their own limit (the hot buy route): a body of unknown length may go there. */
  readsOwnBody?: (method: string, pathname: string) => boolean;
  /**
   * Routes whose handler writes the security headers with its own answers (the hot routes, from
   * prebuilt header lists): the front door does not set them one by one, except on its own refusals.
   */
  setsOwnHeaders?: (method: string, pathname: string) => boolean;
}

/** Server options: the header and whole-request deadlines, checked every second (Node's default is 30 s). */
export function serverTimeouts(o: { headersTimeoutMs: number; requestTimeoutMs: number }): http.ServerOptions {
  return {
    headersTimeout: o.headersTimeoutMs,
    requestTimeout: Math.max(o.requestTimeoutMs, o.headersTimeoutMs),
    connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs),
  };
}

export function bodyLimitFor(pathname: string, o: FrontDoorOptions): number {
  if (pathname === "/api/admin/uploads") return o.uploadMaxBytes;
  // Sign-in and sign-up forms are a few hundred bytes.
  if (pathname.startsWith("/api/auth/")) return 16 * 1024;
  return o.maxBodyBytes;
}

export function clientIp(req: http.IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers["x-forwarded-for"];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "unknown";
}

/** The request's path, or null if it is not a decodable origin-form path. */
export function requestPath(url: string | undefined): string | null {
  if (!url || !url.startsWith("/") || url.startsWith("//")) return null;
  const q = url.indexOf("?");
  const pathname = q === -1 ? url : url.slice(0, q);
  // decodeURIComponent throws on broken escapes (e.g. "%E0%A4%A"), which Next.js turns into a 500.
  // Without a "%" there is nothing to decode (decodeURIComponent is most of this function's cost).
  const decoded = pathname.includes("%") ? tryDecode(pathname) : pathname;
  if (decoded === null || /[\u0000-\u001f]/.test(decoded)) return null;
  if (q !== -1) {
    // NUL and other control bytes in a query parameter break PostgreSQL text and logs; tab and newlines may stay.
    const query = tryDecode(url.slice(q + 1).replace(/\+/g, " "));
    if (query === null || /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(query)) return null;
  }
  return pathname;
}

function tryDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null; // malformed escape: the caller answers 400
  }
}

export function reject(res: http.ServerResponse, status: number, code: string, headers: Record<string, string> = {}) {
  const body = JSON.stringify({ code });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store", ...headers });
  res.end(body);
}

/**
 * Wraps the web process's request handler: sets the security headers on every response, records the
 * client address for the layers behind, and refuses bad methods, URLs and oversized bodies.
 */
export function frontDoor(
  o: FrontDoorOptions,
  next: (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => void,
): http.RequestListener {
  const headers = Object.entries(securityHeaders({ https: o.https, captchaOrigins: o.captchaOrigins }));
  const setAll = (res: http.ServerResponse) => {
    for (const [name, value] of headers) res.setHeader(name, value);
  };
  return (req, res) => {
    const method = req.method ?? "GET";
    const pathname = METHODS.has(method) ? requestPath(req.url) : null;
    const own = pathname !== null && (o.setsOwnHeaders?.(method, pathname) ?? false);
    if (!own) setAll(res);
    const ip = clientIp(req, o.trustProxy);
    req.headers[CLIENT_IP_HEADER] = ip;
    if (!METHODS.has(method)) return reject(res, 405, "METHOD_NOT_ALLOWED", { allow: [...METHODS].join(", ") });
    if (pathname === null) return reject(res, 400, "BAD_INPUT");
    const length = req.headers["content-length"];
    const limit = bodyLimitFor(pathname, o);
    if (length !== undefined && !(/^[0-9]{1,12}$/.test(length) && Number(length) <= limit)) {
      if (own) setAll(res);
      // Connection: close, so the unread body is never parsed as the next request.
      return reject(res, 413, "TOO_LARGE", { connection: "close" });
    }
    // A streamed body of unknown size would be read whole by the framework: browsers never send one.
    if (length === undefined && req.headers["transfer-encoding"] !== undefined && !o.readsOwnBody?.(method, pathname)) {
      if (own) setAll(res);
      return reject(res, 411, "LENGTH_REQUIRED", { connection: "close" });
    }
    const early = o.refuseEarly?.(method, pathname, ip);
    if (early) {
      if (own) setAll(res);
      const body = JSON.stringify(early.body);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(early.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store", connection: "close", ...early.headers });
        res.end(body);
      };
      if (early.delayMs) return void setTimeout(send, early.delayMs);
      return send();
    }
    next(req, res, pathname);
  };
}
