import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function start(entry: string, env: Record<string, string>) {
  // An npm script name runs through npm itself (--silent: npm's own banner lines off), as a user types it.
  const [cmd, args] = entry.startsWith("npm ")
    ? ["npm", [...entry.slice(4).split(" "), "--silent"]]
    : ["node_modules/.bin/tsx", ["--import", "./scripts/register.mjs", entry]];
  const r = spawnSync(cmd, args, {
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
    ["scripts/server.ts", { REDIS_URL: "postgresql://nope" }, /^\[web\] REDIS_URL: must be a redis:\/\/ or redis\+cluster:\/\/ URL$/],
  ])("%s stops with one line naming the variable (%j)", (entry, env, line) => {
    const r = start(entry, env);
    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(line);
  });
});

describe("start-up with a malformed process setting", () => {
  it.each([
    ["npm start", { PORT: "abc" }, /^\[web\] PORT: must be a whole number$/],
    ["npm run worker", { WORKER_CLAIM_IDLE_MS: "x" }, /^\[worker\] WORKER_CLAIM_IDLE_MS: must be a whole number$/],
    ["scripts/server.ts", { WEB_CONCURRENCY: "0" }, /^\[web\] WEB_CONCURRENCY: must be at least 1$/],
    // Named before the servers are looked at, so a half-configured machine still hears about the typo.
    ["scripts/worker.ts", { WORKER_BATCH_SIZE: "2OO", DATABASE_URL: "" }, /^\[worker\] WORKER_BATCH_SIZE: must be a whole number$/],
  ])("%s stops with one line naming the variable (%j)", (entry, env, line) => {
    const r = start(entry, env);
    expect(r.status).not.toBe(0);
    expect(r.lines).toEqual([expect.stringMatching(line)]);
  });
});
