import "server-only";
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

// A gate pass: proof that this user solved the human check for this sale, valid until `exp`.
// An HMAC over "activity:user:exp", verified in-process, so the hot token route needs no Redis.

/** One cookie per sale, sent only to that sale's API routes. */
export const passCookieName = (activityId: string) => `flash_pass_${activityId}`;
export const passCookiePath = (activityId: string) => `/api/activities/${activityId}`;

export class PassKeys {
  private key: Buffer;

  constructor(secret: string, private ttlS: number) {
    this.key = Buffer.from(hkdfSync("sha256", secret, "", "flash-sale gate pass", 32));
  }

  issue(activityId: string, userId: string, now = Date.now()): { value: string; maxAgeS: number } {
    const exp = Math.floor(now / 1000) + this.ttlS;
    return { value: `${exp}.${this.sign(activityId, userId, exp)}`, maxAgeS: this.ttlS };
  }

  /** The Set-Cookie header value that hands the pass to the browser. */
  cookie(activityId: string, userId: string, secure: boolean, now = Date.now()): string {
    const { value, maxAgeS } = this.issue(activityId, userId, now);
    const attrs = [`Path=${passCookiePath(activityId)}`, `Max-Age=${maxAgeS}`, "HttpOnly", "SameSite=Lax", ...(secure ? ["Secure"] : [])];
    return `${passCookieName(activityId)}=${value}; ${attrs.join("; ")}`;
  }

  /** Does the Cookie header hold a live pass of this user for this sale? */
  verify(cookieHeader: string | null | undefined, activityId: string, userId: string, now = Date.now()): boolean {
    if (!cookieHeader) return false;
    const name = `${passCookieName(activityId)}=`;
    const at = cookieHeader.indexOf(name);
    if (at === -1 || (at > 0 && cookieHeader[at - 1] !== " " && cookieHeader[at - 1] !== ";")) return false;
    const end = cookieHeader.indexOf(";", at);
    const m = /^([0-9]{10})\.([A-Za-z0-9_-]{43})$/.exec(cookieHeader.slice(at + name.length, end === -1 ? undefined : end));
    if (!m) return false;
    const exp = Number(m[1]);
    if (exp * 1000 <= now) return false;
    const expected = Buffer.from(this.sign(activityId, userId, exp));
    const given = Buffer.from(m[2]!);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(activityId: string, userId: string, exp: number): string {
    return createHmac("sha256", this.key).update(`${activityId}:${userId}:${exp}`).digest("base64url");
  }
}
