import "server-only";
import { createHmac, timingSafeEqual } from "node:crypto";

// A buy token binds a user to one scheduled start of one activity. It is only handed out once the
// activity is live, so a script cannot prepare requests before the start, nor share one token.
export function buyToken(secret: string, activityId: string, startMs: number, userId: string): string {
  return createHmac("sha256", secret).update(`${activityId}:${startMs}:${userId}`).digest("base64url");
}

export function verifyBuyToken(
  secret: string, activityId: string, startMs: number, userId: string, token: string,
): boolean {
  const expected = Buffer.from(buyToken(secret, activityId, startMs, userId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
