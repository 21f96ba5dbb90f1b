// Security headers for every response of the web process: the hot routes and every page and route
// Next.js answers behind them (scripts/server.ts sets them before handing a request on).
//
// script-src is strict: 'self' plus the SHA-256 hash of each inline script an HTML page carries
// (lib/http/inline-script-csp.ts computes them as the page leaves the server). Hashes, not nonces:
// a nonce would force every page to render per request, losing the static/ISR activity page's CDN
// cache that the crowd relies on, while a hash holds for every copy of the same HTML.
// This file imports nothing: next.config.ts loads it for `next dev`.

/** Origins the hCaptcha widget loads from and talks to (its documented CSP list). */
export const HCAPTCHA_ORIGINS = ["https://hcaptcha.com", "https://*.hcaptcha.com"];

export interface SecurityHeaderOptions {
  /** The site is served over HTTPS (directly or behind a TLS-terminating proxy): add HSTS. */
  https: boolean;
  /** Extra origins for the captcha widget's scripts, frames and calls. */
  captchaOrigins?: readonly string[];
  /**
   * `next dev` only: its client runs eval (React Refresh) and inline scripts that no header set
   * once for all pages can hash. Never in production.
   */
  devScripts?: boolean;
}

/** The policy; `scriptHashes` are the 'sha256-…' sources of the inline scripts this response carries. */
export function contentSecurityPolicy(
  captchaOrigins: readonly string[] = [],
  scriptHashes: readonly string[] = [],
  devScripts = false,
): string {
  const extra = captchaOrigins.join(" ");
  const withExtra = (base: string) => (extra ? `${base} ${extra}` : base);
  const scripts = devScripts ? ["'unsafe-inline'", "'unsafe-eval'"] : scriptHashes.map((h) => `'${h}'`);
  return [
    "default-src 'self'",
    withExtra(["script-src 'self'", ...scripts].join(" ")),
    // Inline styles stay allowed: React's style props and the widgets' own styles use them.
    withExtra("style-src 'self' 'unsafe-inline'"),
    "img-src 'self' data: blob:",
    "font-src 'self'",
    withExtra("connect-src 'self'"),
    extra ? `frame-src ${extra}` : "frame-src 'none'",
    // ALTCHA solves its proof of work in Web Workers it creates from blob: URLs.
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * The headers of the hot server's JSON answers (OWASP's REST set): a JSON body is never a document,
 * so its policy forbids everything and no page-only header rides along. A tenth of the page set's
 * bytes, on the answers the crowd gets by the tens of thousands per second.
 */
export function apiSecurityHeaders(opts: Pick<SecurityHeaderOptions, "https">): Record<string, string> {
  return {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    ...(opts.https ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

export function securityHeaders(opts: SecurityHeaderOptions): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(opts.captchaOrigins, [], opts.devScripts),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    ...(opts.https ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {}),
  };
}
