import "server-only";
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";

// The secret as a KeyObject, made once: createHmac with a string imports the key on every call.
let keyFor: { secret: string; key: KeyObject } | undefined;
function keyOf(secret: string): KeyObject {
  if (keyFor?.secret !== secret) keyFor = { secret, key: createSecretKey(Buffer.from(secret)) };
  return keyFor.key;
}

// A buy token binds a user to one scheduled start of one activity. It is only handed out once the
// activity is live, so a script cannot prepare requests before the start, nor share one token.
export function buyToken(secret: string, activityId: string, startMs: number, userId: string): string {
  return createHmac("sha256", keyOf(secret)).update(`${activityId}:${startMs}:${userId}`).digest("base64url");
}

export function verifyBuyToken(
  secret: string, activityId: string, startMs: number, userId: string, token: string,
): boolean {
  const expected = Buffer.from(buyToken(secret, activityId, startMs, userId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
