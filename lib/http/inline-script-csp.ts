import { createHash } from "node:crypto";
import type http from "node:http";
import zlib from "node:zlib";

// Strict script-src for HTML without nonces: every text/html response is held until complete, the
// SHA-256 of each inline <script> in it goes into its Content-Security-Policy, then it is sent.
// Why hand-written: CSP middleware packages hand out nonces, which Next.js can only apply by
// rendering each page per request; a hash holds for every copy of a static/ISR page.

// A script element's text: no `src`, content up to the first `</script` (the HTML parser's rule).
const INLINE_SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script/gi;

/** 'sha256-…' for each distinct inline script in the page, in order of first appearance. */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  for (const [, attrs, body] of html.matchAll(INLINE_SCRIPT)) {
    if (/\ssrc\s*=/i.test(attrs!) || body === "") continue;
    hashes.add(`sha256-${createHash("sha256").update(body!, "utf8").digest("base64")}`);
  }
  return [...hashes];
}

function decoded(body: Buffer, encoding: string): string {
  if (encoding === "gzip") return zlib.gunzipSync(body).toString("utf8");
  if (encoding === "br") return zlib.brotliDecompressSync(body).toString("utf8");
  if (encoding === "deflate") return zlib.inflateSync(body).toString("utf8");
  return body.toString("utf8");
}

type Cb = (err?: Error | null) => void;

/**
 * Patches `res` (before the framework writes to it) so that an HTML response is buffered and sent
 * with `policy(hashes)` as its Content-Security-Policy; any other response passes straight through.
 */
export function hashInlineScripts(res: http.ServerResponse, policy: (scriptHashes: string[]) => string): void {
  const orig = { writeHead: res.writeHead, write: res.write, end: res.end, flushHeaders: res.flushHeaders };
  let mode: "undecided" | "buffer" | "pass" = "undecided";
  const chunks: Buffer[] = [];
  const decide = () => {
    if (mode === "undecided") {
      const html = String(res.getHeader("content-type") ?? "").startsWith("text/html");
      mode = html && res.req.method !== "HEAD" ? "buffer" : "pass";
      // A 304 keeps the browser's copy, whose scripts only that copy's policy lists: a policy sent
      // with the 304 would replace it and block them (a reload of a static page did exactly that).
      if (res.statusCode === 304) res.removeHeader("content-security-policy");
    }
    return mode;
  };
  const keep = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk === undefined || chunk === null) return;
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk, encoding ?? "utf8") : Buffer.from(chunk as Uint8Array));
  };

  res.writeHead = function (this: http.ServerResponse, status: number, ...rest: unknown[]) {
    if (mode === "pass") return orig.writeHead.apply(this, [status, ...rest] as never);
    const headers = rest.find((r) => typeof r === "object" && r !== null);
    if (typeof rest[0] === "string") this.statusMessage = rest[0];
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) this.setHeader(String(headers[i]), headers[i + 1] as string);
    } else if (headers) {
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.setHeader(k, v as string);
    }
    this.statusCode = status;
    if (decide() === "pass") return orig.writeHead.call(this, status);
    return this; // sent with the body, once its hashes are known
  } as typeof res.writeHead;

  res.flushHeaders = function (this: http.ServerResponse) {
    if (decide() === "pass") orig.flushHeaders.call(this);
  };

  res.write = function (this: http.ServerResponse, chunk: unknown, ...args: unknown[]) {
    if (decide() === "pass") return orig.write.apply(this, [chunk, ...args] as never);
    keep(chunk, typeof args[0] === "string" ? (args[0] as BufferEncoding) : undefined);
    const cb = args.find((a) => typeof a === "function") as Cb | undefined;
    if (cb) process.nextTick(cb);
    return true;
  } as typeof res.write;

  res.end = function (this: http.ServerResponse, ...args: unknown[]) {
    if (decide() === "pass") return orig.end.apply(this, args as never);
    const cb = args.find((a) => typeof a === "function") as Cb | undefined;
    if (typeof args[0] !== "function") keep(args[0], typeof args[1] === "string" ? (args[1] as BufferEncoding) : undefined);
    const body = Buffer.concat(chunks);
    let hashes: string[] = [];
    try {
      hashes = inlineScriptHashes(decoded(body, String(this.getHeader("content-encoding") ?? "")));
    } catch {
      // An undecodable body gets no inline script allowed: the strict policy stands.
    }
    this.setHeader("content-security-policy", policy(hashes));
    if (!this.hasHeader("transfer-encoding")) this.setHeader("content-length", body.length);
    orig.writeHead.call(this, this.statusCode);
    return orig.end.apply(this, [body, cb] as never);
  } as typeof res.end;
}
