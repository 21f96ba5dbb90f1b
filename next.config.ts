import path from "node:path";
import type { NextConfig } from "next";
import { PHASE_DEVELOPMENT_SERVER } from "next/constants";
import createNextIntlPlugin from "next-intl/plugin";
import { HCAPTCHA_ORIGINS, securityHeaders } from "./lib/http/security-headers";

// next-intl reads its per-request configuration (locale, messages, shop time zone) from this module.
const withNextIntl = createNextIntlPlugin("./lib/i18n/request.ts");

export default function config(phase: string): NextConfig {
  return withNextIntl({
    reactStrictMode: true,
    // Separate build folders let several builds (e.g. parallel checkouts) coexist; default .next.
    distDir: process.env.NEXT_DIST_DIR ?? ".next",
    poweredByHeader: false,
    // The hot server (server.ts) and workers import lib/ directly; keep these out of the client bundle.
    serverExternalPackages: ["ioredis", "pg", "@prisma/adapter-pg", "bcrypt", "pino", "rate-limiter-flexible", "prom-client"],
    typedRoutes: false,
    experimental: { authInterrupts: true },
    images: { unoptimized: true },
    // ISR pages and revalidatePath shared by every web instance through Redis (in memory during the
    // build and `next dev`): lib/next-cache-handler.mjs. An absolute path: Next.js would read a relative
    // one against the build folder. Resolved from the working directory, where Next.js finds the project too.
    cacheHandler: path.resolve("lib/next-cache-handler.mjs"),
    // No per-process copy in front of the shared cache (Next.js's advice for a custom handler).
    cacheMaxMemorySize: 0,
    // In production scripts/server.ts sets the security headers (with per-page script hashes);
    // `next dev` does not go through it, so the same headers come from here.
    ...(phase === PHASE_DEVELOPMENT_SERVER ? { headers: async () => devSecurityHeaders() } : {}),
  });
}

export function devSecurityHeaders() {
  // Read raw: this file cannot load lib/env.ts (which validates the same variable for the servers).
  const captchaOrigins = process.env.CAPTCHA_PROVIDER === "hcaptcha" ? HCAPTCHA_ORIGINS : [];
  const headers = securityHeaders({ https: false, captchaOrigins, devScripts: true });
  return [{ source: "/:path*", headers: Object.entries(headers).map(([key, value]) => ({ key, value })) }];
}
