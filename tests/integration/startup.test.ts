import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function start(entry: string, env: Record<string, string>) {
  const r = spawnSync("node_modules/.bin/tsx", ["--import", "./scripts/register.mjs", entry], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.trim().split("\n").filter(Boolean) };
}

describe("start-up with a bad DATABASE_URL or REDIS_URL", () => {
  it.each([
    ["scripts/worker.ts", { DATABASE_URL: "postgresql://postgres@127.0.0.1:1/nowhere" }, /^\[worker\] DATABASE_URL: cannot connect to postgresql:\/\/postgres@127\.0\.0\.1:1\/nowhere \(ECONNREFUSED\)$/],
    ["scripts/server.ts", { REDIS_URL: "redis://127.0.0.1:1" }, /^\[web\] REDIS_URL: cannot connect to redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)$/],
    ["scripts/worker.ts", { DATABASE_URL: "mysql://somewhere/db" }, /^\[worker\] DATABASE_URL: must be a postgresql:\/\/ URL$/],
    ["scripts/server.ts", { REDIS_URL: "postgresql://nope" }, /^\[web\] REDIS_URL: must be a redis:\/\/ URL$/],
  ])("%s stops with one line naming the variable (%j)", (entry, env, line) => {
    const r = start(entry, env);
    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(line);
  });
});
