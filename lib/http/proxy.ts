import "server-only";
import http from "node:http";
import { reject } from "@/lib/http/front-door";

// Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, so neither side's are passed on.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

/**
 * Passes a request on to the pages process (Next.js, scripts/server.ts) and streams its answer back:
 * the request's headers as the front door left them (its client address included), the answer's
 * status and headers as they came (several Set-Cookie lines stay several), the body piped both ways.
 * Headers already set on `res` (the front door's security headers) stay unless the answer sets its own.
 * Hand-written rather than a proxy library: one upstream on loopback, no rewriting, ~40 lines.
 * `socketPath()` names the pages process's Unix socket, or null while it is not up (503).
 * `answered(status, seconds)`, when given, hears of every answer as it begins (the metrics), the
 * proxy's own 502 and 503 included.
 */
export function proxyTo(
  socketPath: () => string | null,
  answered?: (status: number, seconds: number) => void,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return (req, res) => {
    const t0 = performance.now();
    const done = (status: number) => answered?.(status, (performance.now() - t0) / 1000);
    const to = socketPath();
    if (!to) {
      done(503);
      return void reject(res, 503, "UNAVAILABLE", { "retry-after": "1" });
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    const up = http.request({ socketPath: to, method: req.method, path: req.url, headers, agent }, (answer) => {
      if (res.destroyed) return void answer.destroy();
      // Set one by one, a repeated name as a list: node 20's writeHead(status, list) over headers already
      // set keeps only the last of a repeated name (two Set-Cookie lines would become one).
      for (const [name, values] of Object.entries(answer.headersDistinct)) {
        if (!HOP_BY_HOP.has(name) && values) res.setHeader(name, values.length === 1 ? values[0]! : values);
      }
      // A 304 must not carry a CSP: it would replace the cached page's, which names its scripts'
      // hashes (lib/http/inline-script-csp.ts). The front door's default is on `res` already.
      if (answer.statusCode === 304 && answer.headers["content-security-policy"] === undefined) res.removeHeader("content-security-policy");
      const status = answer.statusCode ?? 502;
      res.writeHead(status, answer.statusMessage);
      done(status);
      answer.pipe(res);
      // The pages process hung up mid-answer: the client's connection cannot carry a complete one.
      answer.on("aborted", () => res.destroy());
    });
    up.on("error", () => {
      if (!res.headersSent) {
        done(502);
        reject(res, 502, "UNAVAILABLE", { "retry-after": "1" });
      } else res.destroy();
    });
    // The client went away first: stop the work upstream too.
    res.on("close", () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };
}
