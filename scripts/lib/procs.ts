import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const TSX = ["--import", "./scripts/register.mjs"];

// Commands run() has in progress (migrations, seed, build), so a launcher that is stopped mid-way takes them along.
const running = new Set<ChildProcess>();

/** Runs a command to completion with inherited output; throws with the command line if it fails. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: "inherit" });
    running.add(child);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      running.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`${[cmd, ...args].join(" ")} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** Stops what run() has in progress (see stopProcesses). */
export const stopRunning = () => stopProcesses([...running]);

/**
 * A TypeScript entry run by node itself with tsx as a loader: no tsx CLI process in between, so a
 * signal (SIGKILL, SIGSTOP) reaches the program, not a wrapper that would leave it running.
 */
export function nodeArgs(entry: string, args: string[] = []): [string, string[]] {
  return [process.execPath, ["--import", "tsx", ...TSX, entry, ...args]];
}

/** The long-running entries production runs as plain JavaScript (scripts/build-server.mjs). */
export type BundledEntry = "scripts/server.ts" | "scripts/worker.ts";
let bundled: Promise<void> | undefined;

/**
 * A long-running entry as production runs it: the bundle scripts/build-server.mjs makes of it (built
 * once per launcher, about a second), on node alone, with no loader hooks in the process. Node
 * flags (--cpu-prof, --import …) go in `nodeFlags`.
 */
export async function bundledArgs(entry: BundledEntry, nodeFlags: string[] = []): Promise<[string, string[]]> {
  bundled ??= run(process.execPath, [path.join(ROOT, "scripts/build-server.mjs"), "--quiet"]);
  await bundled;
  const file = path.join(ROOT, ".next-server", `${path.basename(entry, ".ts")}.mjs`);
  return [process.execPath, ["--enable-source-maps", ...nodeFlags, file]];
}

/** A TypeScript entry run with tsx and the server-only hook (see scripts/register.mjs). */
export function tsxArgs(entry: string, args: string[] = []): [string, string[]] {
  return [`${ROOT}/node_modules/.bin/tsx`, [...TSX, entry, ...args]];
}

/** Starts a long-running child whose output lines carry a name prefix. */
export function startProcess(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter(Boolean)
      .map((l) => `[${name}] ${l.replace(/^\[[^\]]+\] /, "")}\n`)
      .join("");
  child.stdout?.on("data", (c: Buffer) => process.stdout.write(prefix(c)));
  child.stderr?.on("data", (c: Buffer) => process.stderr.write(prefix(c)));
  return child;
}

/** Stops children with SIGTERM and waits for them (SIGKILL after a grace period). */
export async function stopProcesses(children: ChildProcess[], graceMs = 10_000): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const timer = setTimeout(() => c.kill("SIGKILL"), graceMs);
          c.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          c.kill("SIGTERM");
        }),
    ),
  );
}

export async function waitForHttp(url: string, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${url}: the server exited (${child.exitCode}) before answering`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

/** Loads ./.env if present (Node's own parser); variables already set win. */
export function loadDotEnv(): void {
  try {
    process.loadEnvFile(path.join(ROOT, ".env"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}
