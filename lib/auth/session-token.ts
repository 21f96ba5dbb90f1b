import "server-only";
import * as crypto from "node:crypto";
import { jwtDecrypt } from "jose";
import { LRUCache } from "lru-cache";
import type { Role } from "@/lib/generated/prisma/enums";

/** The signed-in user as the hot paths see it: no database lookup, just the session cookie. */
export interface SessionClaims {
  userId: string;
  role: Role;
  /** For the gate's blocked email domains. */
  email?: string;
  /** The email was confirmed when the session was made. */
  verified?: boolean;
}

const COOKIE_PREFIXES = ["__Secure-next-auth.session-token=", "next-auth.session-token="];
// next-auth splits a session cookie above 4 KB into chunks; ours are ~500 characters, so anything
// longer is not one of ours and is refused before any work or caching.
const MAX_TOKEN_CHARS = 4096;
const ACCEPTED_TTL_MS = 60_000;
/** "Bearer " and the spaces a client may put around the token. */
const BEARER_SLACK = 16;
const CLOCK_TOLERANCE_S = 15;
/** What tokenOf gives for a credential that was sent but cannot be a session token. */
const REFUSED = "";
// A compact JWE: five base64url parts (the second, the encrypted key, is empty for "dir").
const JWE_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

// The rejected cache's key for every token not yet cached. crypto.hash (Node ≥ 20.12) is one call
// without a Hash object, ≈ 2.7× cheaper than createHash(…).update(…).digest(…); same digest.
const sha256: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "base64url")
    : (text) => crypto.createHash("sha256").update(text).digest("base64url");

// next-auth v4's decode() derives the same key with HKDF on every call; the hot path derives it once.
function deriveKey(secret: string): Uint8Array {
  return new Uint8Array(crypto.hkdfSync("sha256", secret, "", "NextAuth.js Generated Encryption Key", 32));
}

export interface SessionReader {
  /** Reads the user from a Cookie header or an `Authorization: Bearer <session token>` header. */
  read(cookieHeader: string | undefined | null, authorization?: string | null): Promise<SessionClaims | null>;
  /**
   * The same answer without waiting, when it is known: the claims of a cached session, null when no
   * session token was sent; undefined when one was sent that this cache does not hold (call read:
   * it decrypts it, or refuses it as no session).
   */
  peek(cookieHeader: string | undefined | null, authorization?: string | null): SessionClaims | null | undefined;
  /** Entries held by the accepted and the rejected caches (both bounded). */
  cacheSizes(): { accepted: number; rejected: number };
}

export interface SessionCacheLimits {
  accepted?: number;
  rejected?: number;
}

export function createSessionReader(secret: string, limits: SessionCacheLimits = {}): SessionReader {
  const key = deriveKey(secret);
  // Polling and retries repeat the same cookie; decrypting it once per minute is enough. An entry
  // never outlives the token's own expiry (see decodeToken).
  const accepted = new LRUCache<string, SessionClaims>({ max: limits.accepted ?? 100_000, ttl: ACCEPTED_TTL_MS });
  // Rejected tokens are remembered by digest (a fixed 43 characters, whatever was sent), briefly and
  // in a small LRU, so a flood of distinct forged tokens cannot grow the process.
  const rejected = new LRUCache<string, true>({ max: limits.rejected ?? 10_000, ttl: 5_000 });

  async function decodeToken(token: string): Promise<SessionClaims | null> {
    // A cached token passed the checks below when it was stored.
    const hit = accepted.get(token);
    if (hit) return hit;
    // Its length was checked where it was read (tokenOf).
    if (!JWE_SHAPE.test(token)) return null;
    const digest = sha256(token);
    if (rejected.has(digest)) return null;
    const session = await decrypt(token);
    if (!session) {
      rejected.set(digest, true);
      return null;
    }
    const ttl = Math.min(ACCEPTED_TTL_MS, session.expiresAtMs - Date.now());
    if (ttl > 0) accepted.set(token, session.claims, { ttl });
    return session.claims;
  }

  async function decrypt(token: string): Promise<{ claims: SessionClaims; expiresAtMs: number } | null> {
    // jose throws for every kind of bad token (wrong key, expired, garbled); all of them mean "not signed in".
    const payload = await jwtDecrypt(token, key, { clockTolerance: CLOCK_TOLERANCE_S }).then((r) => r.payload, () => null);
    if (payload && typeof payload.uid === "string" && (payload.role === "SHOPPER" || payload.role === "ADMIN")) {
      const claims: SessionClaims = {
        userId: payload.uid,
        role: payload.role,
        ...(typeof payload.email === "string" ? { email: payload.email } : {}),
        ...(payload.verified === true ? { verified: true } : {}),
      };
      // jose accepted it up to exp + the tolerance; so does the cache, and no longer.
      const expiresAtMs = typeof payload.exp === "number" ? (payload.exp + CLOCK_TOLERANCE_S) * 1000 : Infinity;
      return { claims, expiresAtMs };
    }
    return null;
  }

  // A token longer than any of ours is no token at all: refused before a cache lookup (hashing an
  // 8 KB key for the LRU's map was most of what a flood of long forged tokens cost) or a copy.
  // undefined: no credential was sent; "" (REFUSED): one was sent that cannot be a session token.
  const tokenOf = (cookieHeader: string | undefined | null, authorization?: string | null): string | undefined => {
    const token = cookieHeader ? sessionCookie(cookieHeader) : undefined;
    if (token) return token.length <= MAX_TOKEN_CHARS ? token : REFUSED;
    if (!authorization) return token;
    if (authorization.length > MAX_TOKEN_CHARS + BEARER_SLACK || !authorization.startsWith("Bearer ")) return REFUSED;
    return authorization.slice(7).trim();
  };

  return {
    read(cookieHeader, authorization) {
      const token = tokenOf(cookieHeader, authorization);
      return token ? decodeToken(token) : Promise.resolve(null);
    },
    peek(cookieHeader, authorization) {
      const token = tokenOf(cookieHeader, authorization);
      if (token === undefined) return null;
      return token ? accepted.get(token) : undefined;
    },
    cacheSizes: () => ({ accepted: accepted.size, rejected: rejected.size }),
  };
}

function sessionCookie(header: string): string | undefined {
  for (const prefix of COOKIE_PREFIXES) {
    const at = header.indexOf(prefix);
    if (at === -1) continue;
    // Reject a match inside another cookie's name, e.g. "xnext-auth.session-token".
    if (at > 0 && header[at - 1] !== " " && header[at - 1] !== ";") continue;
    const start = at + prefix.length;
    const end = header.indexOf(";", start);
    const raw = header.slice(start, end === -1 ? undefined : end);
    // Session tokens are base64url and never percent-encoded; a "%" can only be a forged cookie.
    return raw.includes("%") ? "" : raw;
  }
  return undefined;
}
