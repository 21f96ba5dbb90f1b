import createNextIntlPlugin from "next-intl/plugin";

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  // Separate build folders let several builds (e.g. parallel checkouts) coexist; default .next.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  poweredByHeader: false,
  // The hot server (server.ts) and workers import lib/ directly; keep these out of the client bundle.
  serverExternalPackages: ["ioredis", "pg", "@prisma/adapter-pg", "bcrypt", "pino", "rate-limiter-flexible", "prom-client"],
  typedRoutes: false,
  experimental: { authInterrupts: true },
  images: { unoptimized: true },
};

// next-intl reads its per-request configuration (locale, messages, shop time zone) from this module.
const withNextIntl = createNextIntlPlugin("./lib/i18n/request.ts");

export default withNextIntl(nextConfig);
