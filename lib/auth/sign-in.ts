import "server-only";
import { authenticate, type SessionUser } from "@/lib/auth/users";
import type { RateLimits } from "@/lib/rate-limit";

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
  const user = await authenticate(email, password);
  if (!user) {
    await limits.signInFailed(email, ip);
    return { ok: false, code: "WRONG_CREDENTIALS" };
  }
  await limits.signInSucceeded(email);
  return { ok: true, user };
}
