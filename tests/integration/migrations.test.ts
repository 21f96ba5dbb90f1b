import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { createActivity } from "../support/flash";

const dir = path.join(process.cwd(), "prisma", "migrations");

describe("migrations (Prisma's WASM schema engine)", () => {
  it("one finished _prisma_migrations row per folder, with the sha256 of its migration.sql", async () => {
    const folders = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(folders.length).toBeGreaterThan(0);
    const rows = await db().$queryRaw<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }[]>`
      SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name`;
    expect(rows.map((r) => r.migration_name)).toEqual(folders);
    for (const r of rows) {
      const sql = readFileSync(path.join(dir, r.migration_name, "migration.sql"));
      expect(r.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(r.finished_at).not.toBeNull();
      expect(r.rolled_back_at).toBeNull();
    }
  });

  it("status reports nothing pending (exit 0)", () => {
    const r = spawnSync("node_modules/.bin/tsx", ["--import", "./scripts/register.mjs", "scripts/db/migrate.ts", "status"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.stdout + r.stderr).toContain("Database schema is up to date");
    expect(r.status).toBe(0);
  });

  it("the database itself refuses negative stock and impossible settings", async () => {
    const { id } = await createActivity({ stock: 3, preheat: false });
    const activity = await db().activity.findUniqueOrThrow({ where: { id } });
    await expect(db().activity.update({ where: { id: activity.id }, data: { stock: -1 } })).rejects.toThrow();
    await expect(db().activity.update({ where: { id: activity.id }, data: { safetyStockPct: 31 } })).rejects.toThrow();
    await expect(db().activity.update({ where: { id: activity.id }, data: { endAt: activity.startAt } })).rejects.toThrow();
    for (const stockSegments of [0, 17])
      await expect(db().activity.update({ where: { id: activity.id }, data: { stockSegments } })).rejects.toThrow();
  });
});
