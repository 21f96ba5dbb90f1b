import "server-only";
import { createRequire } from "node:module";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { parseSettings } from "@/lib/env";

const COST = 10;
/** Password checks waiting for the hashing thread; past this a sign-in is told to retry (memory stays bounded). */
const MAX_WAITING = 500;

/** The hashing thread has more waiting than MAX_WAITING: the caller answers "retry later". */
export class PasswordChecksBusy extends Error {
  constructor() {
    super("too many password checks waiting");
  }
}

// Hashing runs on one worker thread of its own at the lowest CPU priority (PASSWORD_HASH_NICE,
// default 19). Linux keeps a nice value per thread, so setPriority(0, nice) there lowers that thread
// alone: a burst of sign-ins gets only the CPU the sale leaves idle. bcrypt's async API hashed on
// libuv's pool at the web process's priority, and on a 2-core machine 16 parallel wrong sign-ins took
// the sale's core (honest p99 ×70, bench bots).
// The thread runs plain CommonJS (eval), so Next.js's bundler never has to know about it.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
try { require("node:os").setPriority(0, workerData.nice); } catch {}
const bcrypt = require(workerData.bcrypt);
parentPort.on("message", (m) => {
  try {
    const result = m.op === "hash" ? bcrypt.hashSync(m.password, m.cost) : bcrypt.compareSync(m.password, m.hash);
    parentPort.postMessage({ id: m.id, result });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
});`;

type Waiting = { resolve: (v: string | boolean) => void; reject: (e: Error) => void };
type Job = { op: "hash"; password: string; cost: number } | { op: "compare"; password: string; hash: string };

/** One hashing thread and the checks waiting for it; past `maxWaiting` a check is refused at once. */
export class PasswordThread {
  private worker?: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private next = 1;

  constructor(private readonly maxWaiting = MAX_WAITING) {}

  run<T extends string | boolean>(job: Job): Promise<T> {
    if (this.waiting.size >= this.maxWaiting) return Promise.reject(new PasswordChecksBusy());
    const worker = this.start();
    const id = this.next++;
    if (this.waiting.size === 0) worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: string | boolean) => void, reject });
      worker.postMessage({ id, ...job });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // Resolved from the project root: the web process runs there (npm start), bundled or not.
    const bcrypt = createRequire(path.join(process.cwd(), "package.json")).resolve("bcrypt");
    const nice = parseSettings().PASSWORD_HASH_NICE;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcrypt, nice } });
    worker.unref(); // an idle hashing thread never keeps the process alive (ref'd while a check waits)
    worker.on("message", (m: { id: number; result?: string | boolean; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) worker.unref();
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve(m.result!);
    });
    const fail = (e: Error) => {
      if (this.worker === worker) this.worker = undefined; // the next check starts a new thread
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`password thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

const shared = globalThis as unknown as { passwordThread?: PasswordThread };
const thread = () => (shared.passwordThread ??= new PasswordThread());

export function hashPassword(password: string): Promise<string> {
  return thread().run<string>({ op: "hash", password, cost: COST });
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return thread().run<boolean>({ op: "compare", password, hash });
}
