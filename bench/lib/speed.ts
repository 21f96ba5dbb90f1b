import { execFile } from "node:child_process";
import path from "node:path";
import type { Pinning } from "@/bench/lib/pin";
import { ROOT } from "@/scripts/lib/procs";

/** One reading of the server core's speed (bench/speed-probe.mjs), taken just before a measured phase. */
export interface SpeedSample {
  run: number;
  /** The phase it preceded: a sale, the paths, or a reference pass ("reference: hello, soldout"). */
  before: string;
  side: "ours" | "reference";
  /** CPU nanoseconds per probe operation; lower is faster. */
  nsPerOp: number;
}

/**
 * Absolute figures move by 2× between machines of this kind and within one machine over minutes (a
 * shared physical core): the same web code took 80 µs per request in one run and 157–160 µs in the
 * next two. Each figure of ours is divided by a reference measured seconds to a minute later, so a
 * change of the core's speed in between moves the ratio. This reads the speed on the server cores
 * (the CPU time of a fixed mix of JSON, HMAC and allocation, best of 6 rounds) before every phase
 * and every reference pass, so the report can show whether both sides of a ratio ran on the same core.
 */
export function probeSpeed(pinning: Pinning | undefined): Promise<number> {
  const command: [string, string[]] = [process.execPath, [path.join(ROOT, "bench", "speed-probe.mjs")]];
  const [file, args] = pinning ? pinning.onServerCores(...command) : command;
  return new Promise((resolve, reject) =>
    execFile(file, args, { cwd: ROOT, timeout: 30_000 }, (e, stdout) => {
      if (e) return reject(e);
      resolve((JSON.parse(stdout) as { nsPerOp: number }).nsPerOp);
    }),
  );
}

/** A run's drift (speedDrift's ratio) beyond `limit`: the core's speed moved between the two sides of its ratios. */
export const movedBeyond = (ratio: number, limit: number): boolean => Math.abs(ratio - 1) > limit;

/** Per run: the mean probe before our phases ÷ the mean before the reference passes (1: same speed). */
export function speedDrift(samples: SpeedSample[]): { run: number; ours: number; reference: number; ratio: number }[] {
  const runs = [...new Set(samples.map((s) => s.run))].sort((a, b) => a - b);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return runs.flatMap((run) => {
    const ours = samples.filter((s) => s.run === run && s.side === "ours").map((s) => s.nsPerOp);
    const ref = samples.filter((s) => s.run === run && s.side === "reference").map((s) => s.nsPerOp);
    if (!ours.length || !ref.length) return [];
    return [{ run, ours: Math.round(mean(ours)), reference: Math.round(mean(ref)), ratio: Math.round((mean(ours) / mean(ref)) * 100) / 100 }];
  });
}
