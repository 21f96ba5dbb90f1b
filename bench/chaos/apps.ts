import type { ChildProcess } from "node:child_process";
import { bundledArgs, startProcess, stopProcesses, waitForHttp } from "@/scripts/lib/procs";
import { killHard } from "@/bench/chaos/services";
import { within } from "@/bench/chaos/within";

/**
 * The web process (scripts/server.ts) and the order workers (scripts/worker.ts) of a fault run, each
 * by name, so one can be killed with SIGKILL and started again under the same name, as an operator
 * (or systemd) would. Run as production runs them (node on the bundles of scripts/build-server.mjs):
 * a signal reaches the program itself.
 */
export class ChaosApps {
  private procs = new Map<string, ChildProcess>();
  /** Restarts done by restartDead(), by name. */
  restarts: string[] = [];

  constructor(
    private env: NodeJS.ProcessEnv,
    readonly baseUrl: string,
    readonly workerNames: string[],
  ) {}

  async startAll() {
    await Promise.all([this.start("web"), ...this.workerNames.map((n) => this.start(n))]);
  }

  async start(name: string) {
    const entry = name === "web" ? ("scripts/server.ts" as const) : ("scripts/worker.ts" as const);
    const env = name === "web" ? this.env : { ...this.env, WORKER_NAME: name };
    const child = startProcess(name, ...(await bundledArgs(entry)), env);
    this.procs.set(name, child);
    // Generous: on a loaded shared machine a Next.js start has taken over two minutes.
    if (name === "web") await waitForHttp(`${this.baseUrl}/api/time`, 300_000, child);
  }

  alive(name: string) {
    const c = this.procs.get(name);
    return Boolean(c && c.exitCode === null && c.signalCode === null);
  }

  async kill(name: string) {
    const c = this.procs.get(name);
    if (!c?.pid || !this.alive(name)) throw new Error(`${name} is not running`);
    await killHard(c.pid, name);
    await within(`the exit event of ${name} (pid ${c.pid}) after kill -9`, 10_000, () =>
      new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r()))),
    );
  }

  /** kill -9 of every order worker that runs: the queue grows and nothing holds a lock meanwhile. */
  async killWorkers() {
    for (const n of this.workerNames.filter((x) => this.alive(x))) await this.kill(n);
  }

  /** Starts every worker that is not running, under its own name. */
  async startWorkers() {
    await this.restart(this.workerNames);
  }

  /** Starts every process that is not running (killed, or crashed after a fault) under its own name. */
  restartDead(): Promise<string[]> {
    return this.restart(["web", ...this.workerNames]);
  }

  /** Starts those of `names` that are not running, recorded in `restarts`. */
  private async restart(names: string[]): Promise<string[]> {
    const dead = names.filter((n) => !this.alive(n));
    for (const n of dead) {
      this.restarts.push(n);
      await this.start(n);
    }
    return dead;
  }

  async stop() {
    await stopProcesses([...this.procs.values()]);
  }
}
