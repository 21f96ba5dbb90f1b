import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

// scripts/test.ts itself: a step that needs no server starts none, and a suite that runs no test fails.
function runner(...args: string[]) {
  const env = { ...process.env, DATABASE_URL: "", REDIS_URL: "" }; // no servers to fall back on
  const r = spawnSync("node_modules/.bin/tsx", ["--import", "./scripts/register.mjs", "scripts/test.ts", ...args], {
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, last: r.stdout.trimEnd().split("\n").at(-1) };
}

describe("the test runner", () => {
  it("runs the unit step without services or migrations and ends with the summary line", () => {
    const r = runner("unit", "tests/unit/env.test.ts");
    expect(r.out).not.toMatch(/\[services\]|migrate test database|Datasource:/);
    expect(r.last).toMatch(/^\d+ passed, 0 failed$/);
    expect(r.status).toBe(0);
  });

  it("fails a run whose suite ran no test", () => {
    const r = runner("unit", "no-such-test-file");
    expect(r.out).toMatch(/unit: ran no test — that is a failure/);
    expect(r.last).toBe("0 passed, 0 failed");
    expect(r.status).toBe(1);
  });
});
