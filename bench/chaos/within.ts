/** A wait of the fault suite that ran out; the message names what it waited for. */
export class ChaosTimeout extends Error {
  override name = "ChaosTimeout";
}

/**
 * `work`'s result, or a ChaosTimeout "timed out after N s waiting for <what>" once `ms` have passed:
 * no wait of the fault suite may become an idle hang. The work itself is not cancelled (a Prisma
 * query or a child process has no common way to be); the caller reports the run failed and goes on.
 */
// Hand-written: a race against one timer is all it takes (p-timeout is not a dependency of the project).
export async function within<T>(what: string, ms: number, work: Promise<T> | (() => Promise<T>)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ChaosTimeout(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([typeof work === "function" ? work() : work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
