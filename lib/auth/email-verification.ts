import "server-only";
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { errorText, log } from "@/lib/log";
import { sendMail } from "@/lib/mail/mailer";
import type { Locale } from "@/lib/i18n/locales";
import { translator } from "@/lib/i18n/messages";
import { defaultLocale } from "@/lib/i18n/routing";

// The link mailed at sign-up: "<userId>.<expiry>.<HMAC over user, email and expiry>". Stateless (no
// table); bound to the email, so a link stops working if the address changes.
const TTL_S = 24 * 3600;
const logger = log.child({ component: "email-verification" });

function key(): Buffer {
  return Buffer.from(hkdfSync("sha256", env().NEXTAUTH_SECRET, "", "flash-sale email verification", 32));
}

function sign(userId: string, email: string, exp: number): string {
  return createHmac("sha256", key()).update(`${userId}:${email}:${exp}`).digest("base64url");
}

export function verificationToken(userId: string, email: string, now = Date.now()): string {
  const exp = Math.floor(now / 1000) + TTL_S;
  return `${userId}.${exp}.${sign(userId, email, exp)}`;
}

/** Mails the link; a failure is logged, never shown to the shopper (the sign-up itself succeeded). */
export async function sendVerification(
  user: { id: string; email: string },
  baseUrl: string,
  locale: Locale = defaultLocale,
): Promise<void> {
  const link = new URL(`/verify-email?token=${verificationToken(user.id, user.email)}`, baseUrl).toString();
  const t = translator(locale, "mail");
  try {
    await sendMail({ to: user.email, subject: t("verifySubject"), text: t("verifyText", { link }) });
  } catch (e) {
    logger.error({ err: errorText(e), userId: user.id }, "verification mail failed");
  }
}

export type VerifyResult = { ok: true } | { ok: false; code: "INVALID" | "EXPIRED" };

export async function verifyEmail(token: string, now = Date.now()): Promise<VerifyResult> {
  const m = /^([a-z0-9]{8,40})\.([0-9]{10})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, code: "INVALID" };
  const [, userId, expRaw, given] = m as unknown as [string, string, string, string];
  const user = await db().user.findUnique({ where: { id: userId }, select: { email: true, emailVerifiedAt: true } });
  if (!user) return { ok: false, code: "INVALID" };
  const expected = Buffer.from(sign(userId, user.email, Number(expRaw)));
  if (expected.length !== given.length || !timingSafeEqual(expected, Buffer.from(given))) return { ok: false, code: "INVALID" };
  if (Number(expRaw) * 1000 <= now) return { ok: false, code: "EXPIRED" };
  if (!user.emailVerifiedAt) await db().user.update({ where: { id: userId }, data: { emailVerifiedAt: new Date(now) } });
  return { ok: true };
}
