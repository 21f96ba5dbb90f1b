import { readdirSync, readFileSync } from "node:fs";
import bcrypt from "bcrypt";
import { describe, expect, it } from "vitest";
import { hashPassword, PasswordChecksBusy, verifyPassword } from "@/lib/auth/password";

/** Nice value of each thread of this process (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNices(): number[] {
  const dir = `/proc/${process.pid}/task`;
  return readdirSync(dir).map((tid) => Number(readFileSync(`${dir}/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]));
}

describe("password hashing off the sale's CPU", () => {
  it("hashes and verifies on a thread of its own at nice 19, the process's other threads untouched", async () => {
    const hash = await hashPassword("correct horse");
    expect(hash).toMatch(/^\$2b\$10\$/);
    expect(await verifyPassword("correct horse", hash)).toBe(true);
    expect(await verifyPassword("wrong horse", hash)).toBe(false);
    const nices = threadNices();
    expect(nices.filter((n) => n === 19)).toHaveLength(1);
    expect(nices.filter((n) => n === 0).length).toBeGreaterThan(1);
  });

  it("refuses past the waiting bound instead of queueing without end", async () => {
    const hash = bcrypt.hashSync("x", 4); // the cheapest cost: the bound is under test, not bcrypt
    const checks = Array.from({ length: 520 }, () => verifyPassword("y", hash).then(() => "done", (e: unknown) => e));
    const outcomes = await Promise.all(checks);
    const busy = outcomes.filter((o) => o instanceof PasswordChecksBusy).length;
    expect(busy).toBe(20);
    expect(outcomes.filter((o) => o === "done")).toHaveLength(500);
  });
});
