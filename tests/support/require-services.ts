// Integration tests run against real servers; `npm test` starts private ones and sets these.
for (const name of ["DATABASE_URL", "REDIS_URL"]) {
  if (!process.env[name]) {
    throw new Error(`${name} is not set: run integration tests through "npm test" (or npm run test:integration)`);
  }
}
process.env.NEXTAUTH_SECRET ??= "integration-test-secret-0123456789abcdef";
process.env.FLASH_TOKEN_SECRET ??= "integration-token-secret-0123456789abcdef";

import { afterAll } from "vitest";

// Close the per-process clients a test file opened, so the run can exit.
afterAll(async () => {
  const g = globalThis as unknown as {
    redis?: { disconnect(): void };
    prisma?: { $disconnect(): Promise<void> };
    flash?: { close(): void };
  };
  g.flash?.close();
  g.redis?.disconnect();
  await g.prisma?.$disconnect();
});
