import { z } from "zod";

/** "points/seconds", e.g. "10/10": at most 10 within any 10 seconds. */
export const rateSpec = (fallback: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,6}\/[1-9][0-9]{0,5}$/, 'must be "points/seconds", e.g. 10/10')
    .default(fallback)
    .transform((v) => {
      const [points, seconds] = v.split("/").map(Number) as [number, number];
      return { points, seconds };
    });
export type RateSpec = z.output<ReturnType<typeof rateSpec>>;

const ms = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const flag = (fallback: "0" | "1") => z.enum(["0", "1"]).default(fallback).transform((v) => v === "1");

// The gate's variables (rate limits, captcha, hot-server limits), spread into lib/env.ts's schema.
export const gateEnv = {
  /** Trust X-Forwarded-For / X-Forwarded-Proto from a proxy in front (only behind one you run). */
  TRUST_PROXY: flag("0"),
  /** Time a client has to send its request headers, and its whole request (body included). */
  HTTP_HEADERS_TIMEOUT_MS: ms(500, 120_000, 10_000),
  HTTP_REQUEST_TIMEOUT_MS: ms(500, 600_000, 30_000),
  /** Largest request body for pages, actions and API routes (uploads have their own limit). */
  HTTP_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Rate limits on; "0" turns every limit off (a side-by-side benchmark, never production). */
  RATE_LIMITS: flag("1"),
  /** Comma-separated client addresses exempt from the per-IP limits (a load generator, a NAT you trust). */
  RATE_LIMIT_TRUSTED_IPS: z.string().default("").transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean)),
  RATE_LIMIT_TOKEN_USER: rateSpec("20/10"),
  RATE_LIMIT_TOKEN_IP: rateSpec("600/10"),
  RATE_LIMIT_ORDERS_USER: rateSpec("10/10"),
  RATE_LIMIT_ORDERS_IP: rateSpec("600/10"),
  RATE_LIMIT_TICKETS_USER: rateSpec("60/10"),
  RATE_LIMIT_TICKETS_IP: rateSpec("3000/10"),
  /** Hot-route requests without a valid session per address (in memory; forged-token floods). */
  RATE_LIMIT_NO_SESSION_IP: rateSpec("100/10"),
  /** A 429 is held this long before it is sent (a tarpit: a script's closed loop slows to its pace). */
  RATE_LIMIT_REFUSAL_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /** Wrong passwords in a row for one account before a lockout (doubled on each repeat). */
  RATE_LIMIT_SIGNIN_ACCOUNT: rateSpec("5/900"),
  RATE_LIMIT_SIGNIN_IP: rateSpec("50/900"),
  RATE_LIMIT_SIGNUP_IP: rateSpec("10/3600"),
  RATE_LIMIT_ADMIN_WRITES: rateSpec("120/60"),
  /** Buy requests per partner API key (docs/channels.md); counted whatever RATE_LIMITS says. */
  RATE_LIMIT_PARTNER_KEY: rateSpec("600/10"),
  /** The human check: "altcha" (self-hosted proof of work, default) or "hcaptcha". */
  CAPTCHA_PROVIDER: z.enum(["altcha", "hcaptcha"]).default("altcha"),
  HCAPTCHA_SITEKEY: z.string().default("10000000-ffff-ffff-ffff-000000000001"),
  HCAPTCHA_SECRET: z.string().default("0x0000000000000000000000000000000000000000"),
  HCAPTCHA_VERIFY_URL: z.url().default("https://api.hcaptcha.com/siteverify"),
  /** Buy tokens only for accounts whose email was verified (the link mailed at sign-up). */
  GATE_REQUIRE_VERIFIED_EMAIL: flag("0"),
  /** Where mail goes, e.g. smtp://127.0.0.1:1025 (npm run mail-sink); unset: the link is logged instead. */
  SMTP_URL: z.string().regex(/^smtps?:\/\//, "must be an smtp:// URL").optional(),
  MAIL_FROM: z.string().default("Flash Sale <no-reply@flash.test>"),
  /** How long a solved challenge lets its holder ask for the buy token. */
  GATE_PASS_TTL_S: ms(30, 86_400, 1800),
};
