import { readdirSync, readFileSync } from "node:fs";
import bcrypt from "bcrypt";
import { describe, expect, it } from "vitest";
import { hashPassword, PasswordChecksBusy, PasswordThread, verifyPassword } from "@/lib/auth/password";

/** Nice value of each thread of this process (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNices(): number[] {
  const dir = `/proc/${process.pid}/task`;
  return readdirSync(dir).map((tid) => Number(readFileSync(`${dir}/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]));
}

// The hashing thread runs at nice 19, so beside a CPU hog it gets next to nothing: hashes of the
// cheapest cost keep these tests short there too, and the timeouts are generous.
const cheap = bcrypt.hashSync("correct horse", 4);

describe("password hashing off the sale's CPU", () => {
  it("hashes and verifies on a thread of its own at nice 19, the process's other threads untouched", async () => {
    expect(await verifyPassword("correct horse", cheap)).toBe(true);
    expect(await verifyPassword("wrong horse", cheap)).toBe(false);
    expect(await hashPassword("correct horse")).toMatch(/^\$2b\$10\$/);
    // Relative to the process's own nice (the suite may itself run under `nice`): one thread at 19, the rest unchanged.
    const own = threadNices()[0]!;
    const nices = threadNices();
    if (own < 19) expect(nices.filter((n) => n === 19)).toHaveLength(1);
    expect(nices.filter((n) => n === own).length).toBeGreaterThan(own < 19 ? 1 : 2);
  }, 120_000);

  it("refuses past the waiting bound instead of queueing without end", async () => {
    const t = new PasswordThread(5);
    const checks = Array.from({ length: 8 }, () => t.run<boolean>({ op: "compare", password: "x", hash: cheap }).then(() => "done", (e: unknown) => e));
    const outcomes = await Promise.all(checks);
    expect(outcomes.filter((o) => o instanceof PasswordChecksBusy)).toHaveLength(3);
    expect(outcomes.filter((o) => o === "done")).toHaveLength(5);
  }, 120_000);
});
