// The web process's pass-through to its pages process (lib/http/proxy.ts, scripts/server.ts).
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxyTo } from "@/lib/http/proxy";
import { metricsRegistry, observePagesAnswer } from "@/lib/ops/metrics";

const dir = mkdtempSync(path.join(os.tmpdir(), "proxy-test-"));
const socketPath = path.join(dir, "pages.sock");
let pages: http.Server;
let web: http.Server;
let base = "";
let upstreamUp = true;
const seen: { method?: string; url?: string; headers?: http.IncomingHttpHeaders; body?: string }[] = [];
// What the proxy reported of each answer (scripts/server.ts gives it to the metrics).
const answers: { status: number; seconds: number }[] = [];

beforeAll(async () => {
  pages = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url === "/cookies") {
        res.writeHead(200, [["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2; Path=/"], ["content-security-policy", "script-src 'sha256-x'"]].flat());
        return res.end("ok");
      }
      if (req.url === "/cached") return res.writeHead(304).end();
      if (req.url === "/stream") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first,");
        return setTimeout(() => res.end("second"), 50);
      }
      res.writeHead(201, { "content-type": "application/json", connection: "keep-alive", "keep-alive": "timeout=5" });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => pages.listen(socketPath, r));
  const toPages = proxyTo(() => (upstreamUp ? socketPath : null), (status, seconds) => answers.push({ status, seconds }));
  web = http.createServer((req, res) => {
    // As the front door does: the client address for the layers behind, and a default CSP.
    req.headers["x-client-ip"] = "203.0.113.9";
    res.setHeader("content-security-policy", "default-src 'self'");
    res.setHeader("x-frame-options", "DENY");
    toPages(req, res);
  });
  web.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => web.close(r));
  await new Promise((r) => pages.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe("the pass-through to the pages process", () => {
  it("passes method, path, headers (the front door's client address too) and body; drops hop-by-hop headers", async () => {
    const r = await fetch(`${base}/api/auth/callback/credentials?x=1`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: "c=3; d=4" },
      body: "email=a%40b.c&password=x",
    });
    expect(r.status).toBe(201);
    expect(await r.json()).toEqual({ ok: true });
    // The pages process's keep-alive settings are its connection's, not the client's.
    expect(r.headers.get("keep-alive")).toBe("timeout=65");
    const got = seen.at(-1)!;
    expect(got).toMatchObject({ method: "POST", url: "/api/auth/callback/credentials?x=1", body: "email=a%40b.c&password=x" });
    expect(got.headers).toMatchObject({ cookie: "c=3; d=4", "x-client-ip": "203.0.113.9", "content-type": "application/x-www-form-urlencoded" });
    // The front door's headers stay where the answer sets none.
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    expect(r.headers.get("content-security-policy")).toBe("default-src 'self'");
    expect(answers.at(-1)?.status).toBe(201);
    expect(answers.at(-1)?.seconds).toBeGreaterThanOrEqual(0);
  });

  it("keeps every Set-Cookie line and lets the page's own CSP replace the default", async () => {
    const r = await fetch(`${base}/cookies`);
    expect(r.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(r.headers.get("content-security-policy")).toBe("script-src 'sha256-x'");
  });

  it("sends no CSP with a 304 (it would replace the cached page's)", async () => {
    const r = await fetch(`${base}/cached`);
    expect(r.status).toBe(304);
    expect(r.headers.get("content-security-policy")).toBeNull();
  });

  it("streams the answer as it comes", async () => {
    const r = await fetch(`${base}/stream`);
    expect(await r.text()).toBe("first,second");
  });

  it("answers 503 while the pages process is not up, 502 when it cannot be reached", async () => {
    upstreamUp = false;
    const down = await fetch(`${base}/`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ code: "UNAVAILABLE" });
    upstreamUp = true;
    await new Promise((r) => pages.close(r));
    const gone = await fetch(`${base}/`);
    expect(gone.status).toBe(502);
    expect(await gone.json()).toEqual({ code: "UNAVAILABLE" });
    expect(answers.slice(-2).map((a) => a.status)).toEqual([503, 502]);
    await new Promise<void>((r) => pages.listen(socketPath, r));
  });

  it("counts the answers in /metrics by status class, the proxy's own 502 and 503 by code", async () => {
    for (const [status, seconds] of [[200, 0.003], [304, 0.001], [404, 0.002], [500, 0.2], [503, 0], [503, 0]] as const) observePagesAnswer(status, seconds);
    const text = await metricsRegistry.metrics();
    for (const line of ['pages_requests_total{status="2xx"} 1', 'pages_requests_total{status="3xx"} 1', 'pages_requests_total{status="4xx"} 1', 'pages_requests_total{status="5xx"} 1', 'pages_requests_total{status="503"} 2', "pages_answer_seconds_count 6", 'pages_answer_seconds_bucket{le="0.005"} 5'])
      expect(text).toContain(line);
  });
});
