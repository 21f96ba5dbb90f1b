import { encode } from "next-auth/jwt";
import { db } from "@/lib/db";
import { SESSION_MAX_AGE } from "@/lib/auth/options";
import { passCookieName, type PassKeys } from "@/lib/captcha/pass";
import { SHOPPER_PASSWORD_FOR_BENCH, shopperEmail } from "@/bench/lib/seeded";

export interface Shopper {
  id: string;
  email: string;
  name: string;
  /** The Cookie header a signed-in browser sends. */
  cookie: string;
}

const COOKIE = "next-auth.session-token";

/** The seeded shoppers shopper1 … shopperN, in that order. */
export async function loadShoppers(count: number): Promise<Omit<Shopper, "cookie">[]> {
  const emails = Array.from({ length: count }, (_, i) => shopperEmail(i + 1));
  const rows: Omit<Shopper, "cookie">[] = [];
  for (let i = 0; i < emails.length; i += 10_000) {
    rows.push(
      ...(await db().user.findMany({
        where: { email: { in: emails.slice(i, i + 10_000) } },
        select: { id: true, email: true, name: true },
      })),
    );
  }
  const byEmail = new Map(rows.map((r) => [r.email, r]));
  const missing = emails.filter((e) => !byEmail.has(e));
  if (missing.length) throw new Error(`${missing.length} seeded shoppers missing (first: ${missing[0]})`);
  return emails.map((e) => byEmail.get(e)!);
}

/**
 * Signs shoppers in the way a browser does: GET /api/auth/csrf, POST the credentials form to
 * /api/auth/callback/credentials, keep the session cookie, then check it with GET /api/auth/session.
 */
export async function signInThroughNextAuth(baseUrl: string, users: Omit<Shopper, "cookie">[]): Promise<Shopper[]> {
  const out: Shopper[] = [];
  for (const u of users) {
    const csrf = await fetch(`${baseUrl}/api/auth/csrf`);
    if (!csrf.ok) throw new Error(`sign-in: GET /api/auth/csrf answered ${csrf.status}`);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const jar = cookiePairs(csrf.headers.getSetCookie());
    const form = new URLSearchParams({
      csrfToken,
      email: u.email,
      password: SHOPPER_PASSWORD_FOR_BENCH,
      callbackUrl: baseUrl,
      json: "true",
    });
    const res = await fetch(`${baseUrl}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar },
      body: form,
      redirect: "manual",
    });
    const session = cookiePairs(res.headers.getSetCookie())
      .split("; ")
      .find((c) => c.startsWith(`${COOKIE}=`));
    if (!session)
      throw new Error(`sign-in of ${u.email} through next-auth gave no session cookie (status ${res.status})`);
    const check = (await (await fetch(`${baseUrl}/api/auth/session`, { headers: { cookie: session } })).json()) as {
      user?: { id?: string; role?: string; email?: string };
    };
    if (check.user?.id !== u.id || check.user.role !== "SHOPPER") {
      throw new Error(`sign-in of ${u.email}: /api/auth/session answered ${JSON.stringify(check)}`);
    }
    out.push({ ...u, cookie: session });
  }
  return out;
}

/**
 * Session cookies for the rest of the crowd, made with next-auth's own encode() and the server's
 * NEXTAUTH_SECRET, with the claims the app's jwt callback writes ({uid, role, verified} on top of name, email, sub).
 */
export async function mintSessions(users: Omit<Shopper, "cookie">[], secret: string): Promise<Shopper[]> {
  const out: Shopper[] = [];
  for (let i = 0; i < users.length; i += 2000) {
    const chunk = users.slice(i, i + 2000);
    const tokens = await Promise.all(
      chunk.map((u) =>
        encode({
          token: { name: u.name, email: u.email, sub: u.id, uid: u.id, role: "SHOPPER", verified: true },
          secret,
          maxAge: SESSION_MAX_AGE,
        }),
      ),
    );
    chunk.forEach((u, j) => out.push({ ...u, cookie: `${COOKIE}=${tokens[j]}` }));
  }
  return out;
}

/** The crowd as it stands at the start of a sale with the human check: each holds a pass for it. */
export function withPasses(keys: PassKeys, activityId: string, shoppers: Shopper[]): Shopper[] {
  const name = passCookieName(activityId);
  return shoppers.map((s) => ({ ...s, cookie: `${s.cookie}; ${name}=${keys.issue(activityId, s.id).value}` }));
}

function cookiePairs(setCookies: string[]): string {
  return setCookies.map((c) => c.split(";")[0]!).join("; ");
}
