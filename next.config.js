/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The hot server (server.ts) and workers import lib/ directly; keep these out of the client bundle.
  serverExternalPackages: ["ioredis", "pg", "@prisma/adapter-pg", "bcryptjs"],
  typedRoutes: false,
  experimental: { authInterrupts: true },
  images: { unoptimized: true },
};

export default nextConfig;
