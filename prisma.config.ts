import { defineConfig } from "prisma/config";

// DATABASE_URL is optional here: `prisma generate` needs no database, and the
// project's own scripts (scripts/db/*) resolve the embedded database when it is unset.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/unused" },
});
