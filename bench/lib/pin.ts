import { execFileSync } from "node:child_process";
import os from "node:os";
import which from "which";
import { processTree } from "@/bench/lib/probes";

/**
 * `--pin`: the load generator (this process, autocannon runs in it) gets the last core to itself and
 * every server the bench measures gets the others, with util-linux's `taskset`, so the servers' CPU
 * share is not taken by the generator. Children inherit their parent's affinity, so processes
 * started after the bench pinned itself are pinned explicitly as they come.
 */
export interface Pinning {
  generatorCores: string;
  serverCores: string;
  /** Pins these processes and every descendant (all threads) to the server cores. */
  servers(...pids: (number | undefined)[]): void;
  /**
   * Pins these processes and every descendant to the load generator's cores instead: the persistence
   * tier (workers, PostgreSQL) off the web process's core, as a deployment gives it machines of its own.
   */
  beside(...pids: (number | undefined)[]): void;
  /** The command line that runs `file args` on the server cores from its start. */
  onServerCores(file: string, args: string[]): [string, string[]];
}

/** The pinning, or the reason there is none (no taskset, or a single core). */
export function pinGenerator(log: (line: string) => void): Pinning | string {
  const taskset = which.sync("taskset", { nothrow: true });
  if (!taskset) return "taskset not found (util-linux); not pinned";
  const cores = os.cpus().length;
  if (cores < 2) return "one core only; not pinned";
  const generatorCores = String(cores - 1);
  const serverCores = cores === 2 ? "0" : `0-${cores - 2}`;
  const pin = (cpus: string, pid: number) =>
    execFileSync(taskset, ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
  pin(generatorCores, process.pid);
  log(`--pin: load generator (pid ${process.pid}) on core ${generatorCores}, servers on cores ${serverCores}`);
  const pinTrees = (cpus: string, pids: (number | undefined)[]) => {
    for (const root of pids) {
      if (!root) continue;
      for (const pid of processTree(root)) {
        try {
          pin(cpus, pid);
        } catch (e) {
          log(`--pin: could not pin pid ${pid}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
  };
  return {
    generatorCores,
    serverCores,
    onServerCores: (file, args) => [taskset, ["-c", serverCores, file, ...args]],
    servers: (...pids) => pinTrees(serverCores, pids),
    beside: (...pids) => pinTrees(generatorCores, pids),
  };
}
