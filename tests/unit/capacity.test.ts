// The capacity model's command (scripts/capacity.ts, docs/capacity.md): run as a user runs it.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.join(import.meta.dirname, "../..");

function capacity(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "--import", "./scripts/register.mjs", "scripts/capacity.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  const figure = (label: string) => Number(new RegExp(`${label}\\s+([\\d,]+)`).exec(r.stdout)?.[1]?.replace(/,/g, ""));
  return { status: r.status, out: r.stdout, err: r.stderr, soldOutMs: figure("sold out at"), machines: figure("web machines needed") };
}

describe("npm run capacity", () => {
  it("queues the sale's shard: a slower admission script delays the sold-out moment, not the web fleet", () => {
    const light = capacity("--cost-redis-admit", "5");
    const heavy = capacity("--cost-redis-admit", "200");
    expect(light.status, light.err).toBe(0);
    expect(heavy.status, heavy.err).toBe(0);
    // 1,000 units × 5 µs fit the shard's core; × 200 µs is 200 ms of one core, however many web machines.
    expect(light.out).not.toContain("saturated");
    expect(heavy.out).toMatch(/peak 100 % of one core, saturated for \d+ ms/);
    expect(heavy.soldOutMs).toBeGreaterThanOrEqual(200);
    expect(heavy.soldOutMs).toBeGreaterThan(light.soldOutMs);
    expect(heavy.machines).toBe(light.machines);
  });

  it("refuses a cost that is not a positive number, with the flag named", () => {
    for (const bad of ["--cost-redis-admit=-1", "--cost-redis-admit=0", "--cost-redis-admit=fast"]) {
      const r = capacity(bad);
      expect(r.status).toBe(2);
      expect(r.err.trim()).toBe(`capacity: --cost-redis-admit: expected a positive number, got ${bad.split("=")[1]}`);
    }
  });
});
