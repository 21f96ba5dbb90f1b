import "server-only";
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

/**
 * The sandbox provider's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
 * the scheme Stripe uses, so the timestamp is signed with the body and a replayed notification ages out.
 */
export const SIGNATURE_HEADER = "x-sandbox-signature";

export function signPayload(secret: string, rawBody: string, timestampSec: number): string {
  const mac = createHmac("sha256", secret).update(`${timestampSec}.${rawBody}`).digest("hex");
  return `t=${timestampSec},v1=${mac}`;
}

export type SignatureCheck = "OK" | "BAD_SIGNATURE" | "STALE";

export function checkSignature(
  secret: string,
  rawBody: string,
  header: string | null,
  toleranceSec: number,
  nowSec = Math.floor(Date.now() / 1000),
): SignatureCheck {
  if (!header) return "BAD_SIGNATURE";
  const parts = new Map(header.split(",").map((kv) => kv.trim().split("=", 2) as [string, string]));
  const t = Number(parts.get("t"));
  const given = parts.get("v1") ?? "";
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(given)) return "BAD_SIGNATURE";
  const expected = createHmac("sha256", secret).update(`${t}.${rawBody}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(given, "hex"))) return "BAD_SIGNATURE";
  // Checked after the MAC, so an attacker learns nothing from the answer about an unsigned timestamp.
  if (Math.abs(nowSec - t) > toleranceSec) return "STALE";
  return "OK";
}

/** The shared secret: SANDBOX_WEBHOOK_SECRET, or one derived from NEXTAUTH_SECRET when unset. */
export function sandboxSecretFrom(e: { SANDBOX_WEBHOOK_SECRET?: string | undefined; NEXTAUTH_SECRET: string }): string {
  if (e.SANDBOX_WEBHOOK_SECRET) return e.SANDBOX_WEBHOOK_SECRET;
  return Buffer.from(hkdfSync("sha256", e.NEXTAUTH_SECRET, "", "sandbox-webhook", 32)).toString("base64url");
}
