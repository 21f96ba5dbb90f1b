// The folders of the web processes' pages sockets (scripts/server.ts): one per web process under the
// system's temp folder, named after the process's pid, so a later start can remove those of processes
// that are gone without removing their own (kill -9, a crash).
import { readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isPidAlive } from "@/scripts/services/util";

const PREFIX = "flash-pages-";
const NAME = new RegExp(`^${PREFIX}(\\d+)-`);

/** The mkdtemp prefix of the pages socket folder of the web process `pid`. */
export const pagesDirPrefix = (pid: number) => `${PREFIX}${pid}-`;

/** Removes the pages socket folders whose process is gone; another user's are left (rm fails on them). */
export function sweepPagesDirs(parent = os.tmpdir()): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    const m = NAME.exec(name);
    if (!m || isPidAlive(Number(m[1]))) continue;
    try {
      rmSync(path.join(parent, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // not ours to remove
    }
  }
  return removed;
}
