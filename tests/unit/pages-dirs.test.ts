// The pages socket folders of web processes killed without cleaning up are removed by the next start.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pagesDirPrefix, sweepPagesDirs } from "@/scripts/lib/pages-dirs";

describe("pages socket folders", () => {
  it("removes those whose process is gone and keeps the live ones' and everything else", () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), "pages-dirs-test-"));
    const live = path.join(parent, `${pagesDirPrefix(process.pid)}aaaa`);
    // Above any pid_max (2^22 on 64-bit Linux): no such process.
    const dead = path.join(parent, `${pagesDirPrefix(99_999_999)}bbbb`);
    const other = path.join(parent, "flash-pages-notapid-cccc");
    for (const d of [live, dead, other]) mkdirSync(d);
    writeFileSync(path.join(dead, "pages.sock"), "");
    expect(sweepPagesDirs(parent)).toEqual([path.basename(dead)]);
    expect([existsSync(live), existsSync(dead), existsSync(other)]).toEqual([true, false, true]);
  });
});
