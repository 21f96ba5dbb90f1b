import "server-only";
import { hkdfSync } from "node:crypto";
import { jwtDecrypt } from "jose";
import { LRUCache } from "lru-cache";
import type { Role } from "@/lib/generated/prisma/enums";

/** The signed-in user as the hot paths see it: no database lookup, just the session cookie. */
export interface SessionClaims {
  userId: string;
  role: Role;
}

const COOKIE_NAMES = ["__Secure-next-auth.session-token", "next-auth.session-token"];

// next-auth v4's decode() derives the same key with HKDF on every call; the hot path derives it once.
function deriveKey(secret: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", secret, "", "NextAuth.js Generated Encryption Key", 32));
}

export interface SessionReader {
  /** Reads the user from a Cookie header or an `Authorization: Bearer <session token>` header. */
  read(cookieHeader: string | undefined | null, authorization?: string | null): Promise<SessionClaims | null>;
}

export function createSessionReader(secret: string, cacheSize = 200_000): SessionReader {
  const key = deriveKey(secret);
  // Polling and retries repeat the same cookie; decrypting it once per minute is enough.
  const cache = new LRUCache<string, SessionClaims | false>({ max: cacheSize, ttl: 60_000 });

  async function decodeToken(token: string): Promise<SessionClaims | null> {
    const hit = cache.get(token);
    if (hit !== undefined) return hit || null;
    let claims: SessionClaims | null = null;
    try {
      const { payload } = await jwtDecrypt(token, key, { clockTolerance: 15 });
      if (typeof payload.uid === "string" && (payload.role === "SHOPPER" || payload.role === "ADMIN")) {
        claims = { userId: payload.uid, role: payload.role };
      }
    } catch {
      claims = null;
    }
    const exp = claims ? undefined : 5_000;
    cache.set(token, claims ?? false, exp ? { ttl: exp } : undefined);
    return claims;
  }

  return {
    read(cookieHeader, authorization) {
      const token = cookieHeader ? sessionCookie(cookieHeader) : undefined;
      if (token) return decodeToken(token);
      if (authorization?.startsWith("Bearer ")) return decodeToken(authorization.slice(7).trim());
      return Promise.resolve(null);
    },
  };
}

function sessionCookie(header: string): string | undefined {
  for (const name of COOKIE_NAMES) {
    const at = header.indexOf(name + "=");
    if (at === -1) continue;
    // Reject a match inside another cookie's name, e.g. "xnext-auth.session-token".
    if (at > 0 && header[at - 1] !== " " && header[at - 1] !== ";") continue;
    const start = at + name.length + 1;
    const end = header.indexOf(";", start);
    return decodeURIComponent(header.slice(start, end === -1 ? undefined : end));
  }
  return undefined;
}
