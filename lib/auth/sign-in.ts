import "server-only";
import { RATE_LIMITED_ERROR } from "@/lib/auth/errors";
import { PasswordChecksBusy } from "@/lib/auth/password";
import { authenticate, type SessionUser } from "@/lib/auth/users";
import type { RateLimits } from "@/lib/rate-limit";

const BUSY_RETRY_S = 5;

export type SignInResult =
  | { ok: true; user: SessionUser }
  | { ok: false; code: "WRONG_CREDENTIALS" }
  | { ok: false; code: "RATE_LIMITED"; retryAfterS: number };

/**
 * A password check behind the lockout: a locked account or address is refused before any hashing,
 * so a guessing run costs neither the account's owner nor the sale's CPU.
 */
export async function signInWithLimits(limits: RateLimits, email: string, password: string, ip?: string | null): Promise<SignInResult> {
  const allowed = await limits.signInAllowed(email, ip);
  if (!allowed.ok) return { ok: false, code: "RATE_LIMITED", retryAfterS: allowed.retryAfterS };
  let user: SessionUser | null;
  try {
    user = await authenticate(email, password);
  } catch (e) {
    // More checks waiting than the hashing thread keeps: a sign-in flood from many addresses.
    if (e instanceof PasswordChecksBusy) return { ok: false, code: "RATE_LIMITED", retryAfterS: BUSY_RETRY_S };
    throw e;
  }
  if (!user) {
    await limits.signInFailed(email, ip);
    return { ok: false, code: "WRONG_CREDENTIALS" };
  }
  await limits.signInSucceeded(email);
  return { ok: true, user };
}

/**
 * For the front door: a credentials sign-in from an address this process already saw locked out is
 * answered before Next.js runs (a guessing script then costs the web process next to nothing).
 * The body carries next-auth's `url` with the same error the lockout gives, so the form shows the wait.
 */
export function refuseLockedSignIn(limits: RateLimits, baseUrl: string) {
  return (method: string, pathname: string, ip: string) => {
    if (method !== "POST" || pathname !== "/api/auth/callback/credentials") return null;
    const seconds = limits.signInLockedHere(ip);
    if (!seconds) return null;
    const url = `${baseUrl}/api/auth/error?error=${encodeURIComponent(`${RATE_LIMITED_ERROR}${seconds}`)}`;
    return { status: 429, body: { code: "RATE_LIMITED", retryAfter: seconds, url }, headers: { "retry-after": String(seconds) }, delayMs: limits.refusalDelayMs };
  };
}
