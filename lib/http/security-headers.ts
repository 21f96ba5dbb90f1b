// Security headers for every response of the web process: the hot routes and every page and route
// Next.js answers behind them (scripts/server.ts sets them before handing a request on).
//
// script-src keeps 'unsafe-inline': the App Router streams its page data as inline scripts, and a
// nonce would force every page to render per request, losing the activity page's CDN cache that
// the crowd relies on. Everything else is locked to this origin (plus the captcha provider's).

/** Origins the hCaptcha widget loads from and talks to (its documented CSP list). */
export const HCAPTCHA_ORIGINS = ["https://hcaptcha.com", "https://*.hcaptcha.com"];

export interface SecurityHeaderOptions {
  /** The site is served over HTTPS (directly or behind a TLS-terminating proxy): add HSTS. */
  https: boolean;
  /** Extra origins for the captcha widget's scripts, frames and calls. */
  captchaOrigins?: readonly string[];
}

export function contentSecurityPolicy(captchaOrigins: readonly string[] = []): string {
  const extra = captchaOrigins.join(" ");
  const withExtra = (base: string) => (extra ? `${base} ${extra}` : base);
  return [
    "default-src 'self'",
    withExtra("script-src 'self' 'unsafe-inline'"),
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

export function securityHeaders(opts: SecurityHeaderOptions): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(opts.captchaOrigins),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    ...(opts.https ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {}),
  };
}
