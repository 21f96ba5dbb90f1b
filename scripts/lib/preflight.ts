import { env, EnvError, parseSettings, type Settings } from "@/lib/env";
import { maskUrl, pgPing, redisPing, shortReason } from "@/scripts/services/util";

/** Prints one line for a start-up failure (the variable's name, no stack trace) and exits 1. */
function fail(name: string, err: unknown): never {
  console.error(`[${name}] ${err instanceof EnvError ? err.message : shortReason(err)}`);
  process.exit(1);
}

/** The process knobs (PORT, WORKER_CLAIM_IDLE_MS…), or one line naming the bad variable and exit 1. */
export function readSettings(name: string): Settings {
  try {
    return parseSettings();
  } catch (err) {
    fail(name, err);
  }
}

/**
 * Start-up check of a long-running process: the environment parses and both servers answer.
 * On failure it prints one line naming the variable (no stack trace) and exits 1.
 */
export async function preflight(name: string): Promise<void> {
  try {
    const e = env();
    await Promise.all([
      pgPing(e.DATABASE_URL).catch((err: unknown) => {
        throw new EnvError(`DATABASE_URL: cannot connect to ${maskUrl(e.DATABASE_URL)} (${shortReason(err)})`);
      }),
      redisPing(e.REDIS_URL).catch((err: unknown) => {
        throw new EnvError(`REDIS_URL: cannot connect to ${maskUrl(e.REDIS_URL)} (${shortReason(err)})`);
      }),
    ]);
  } catch (err) {
    fail(name, err);
  }
}
