// The strict CSP: its policy, the hashes of a page's inline scripts as the page leaves the server,
// and the same headers under `next dev` (next.config.ts).
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { PHASE_DEVELOPMENT_SERVER, PHASE_PRODUCTION_SERVER } from "next/constants";
import { afterEach, describe, expect, it } from "vitest";
import nextConfig from "@/next.config";
import { hashInlineScripts, inlineScriptHashes } from "@/lib/http/inline-script-csp";
import { contentSecurityPolicy, HCAPTCHA_ORIGINS } from "@/lib/http/security-headers";

const sha = (s: string) => `sha256-${createHash("sha256").update(s, "utf8").digest("base64")}`;
const scriptSrc = (csp: string) => csp.split("; ").find((d) => d.startsWith("script-src "))!;

describe("the policy", () => {
  it("allows no inline script or eval, only this origin and the given hashes", () => {
    const csp = contentSecurityPolicy([], ["sha256-abc="]);
    expect(scriptSrc(csp)).toBe("script-src 'self' 'sha256-abc='");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("worker-src 'self' blob:"); // ALTCHA's proof-of-work workers
  });

  it("lets the hCaptcha widget load, frame and call its origins when it is the provider", () => {
    const csp = contentSecurityPolicy(HCAPTCHA_ORIGINS);
    for (const d of ["script-src 'self'", "style-src 'self' 'unsafe-inline'", "connect-src 'self'", "frame-src"]) {
      expect(csp).toContain(`${d} https://hcaptcha.com https://*.hcaptcha.com`);
    }
    expect(scriptSrc(csp)).not.toContain("'unsafe-inline'");
  });
});

describe("inline script hashes", () => {
  it("hashes each inline script once, not external or empty ones", () => {
    const html =
      '<html><head><script src="/_next/a.js" async=""></script><script>self.__next_f=[]</script></head>' +
      '<body><script id="x">self.__next_f.push([1,"<\\u002fscript>"])</script><script>self.__next_f=[]</script><script></script></body></html>';
    expect(inlineScriptHashes(html)).toEqual([sha("self.__next_f=[]"), sha('self.__next_f.push([1,"<\\u002fscript>"])')]);
  });
});

describe("HTML leaves with its hashes in the policy", () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function serve(handler: (res: http.ServerResponse) => void) {
    server = http.createServer((_req, res) => {
      hashInlineScripts(res, (h) => contentSecurityPolicy([], h));
      handler(res);
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers: { "accept-encoding": "identity" } });
    return { res, body: Buffer.from(await res.arrayBuffer()) };
  }

  it("a page streamed in chunks (writeHead, flushHeaders, write…, end)", async () => {
    const { res, body } = await serve((res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.flushHeaders();
      res.write("<html><body><script>one()</script>");
      res.write(Buffer.from("<p>中文</p><script>two()</script>"));
      res.end("</body></html>");
    });
    expect(body.toString()).toBe("<html><body><script>one()</script><p>中文</p><script>two()</script></body></html>");
    expect(scriptSrc(res.headers.get("content-security-policy")!)).toBe(`script-src 'self' '${sha("one()")}' '${sha("two()")}'`);
    expect(Number(res.headers.get("content-length"))).toBe(body.length);
  });

  it("a compressed page is hashed from its decoded text and sent as compressed", async () => {
    const html = "<html><script>gz()</script></html>";
    const { res } = await serve((res) => {
      res.setHeader("content-type", "text/html");
      res.setHeader("content-encoding", "gzip");
      res.end(zlib.gzipSync(html));
    });
    expect(scriptSrc(res.headers.get("content-security-policy")!)).toBe(`script-src 'self' '${sha("gz()")}'`);
  });

  it("anything but HTML passes through untouched", async () => {
    const { res, body } = await serve((res) => {
      res.setHeader("content-security-policy", "default-src 'none'");
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"a":');
      res.end("1}");
    });
    expect(body.toString()).toBe('{"a":1}');
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'");
  });
});

describe("next dev", () => {
  it("sends the security headers on every path (the production server sets them itself)", async () => {
    const dev = nextConfig(PHASE_DEVELOPMENT_SERVER);
    const [rule] = await dev.headers!();
    expect(rule!.source).toBe("/:path*");
    const headers = Object.fromEntries(rule!.headers.map((h) => [h.key, h.value]));
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    expect(nextConfig(PHASE_PRODUCTION_SERVER).headers).toBeUndefined();
  });
});
