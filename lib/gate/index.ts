import "server-only";
import { captchaProvider } from "@/lib/captcha";
import { PassKeys } from "@/lib/captcha/pass";
import { BlocklistView } from "@/lib/gate/blocklist";
import type { CaptchaProvider } from "@/lib/captcha/provider";
import { env, type Env } from "@/lib/env";
import { redis } from "@/lib/redis";
import { RateLimits, type RateLimitConfig } from "@/lib/rate-limit";

/** The gate in front of admission: rate limits and the captcha pass. One per process. */
export interface Gate {
  limits: RateLimits;
  passes: PassKeys;
  captcha: CaptchaProvider;
  blocklist: BlocklistView;
  /** Buy tokens only for sessions of accounts with a confirmed email. */
  requireVerifiedEmail?: boolean;
}

export function rateLimitConfig(e: Env): RateLimitConfig {
  return {
    enabled: e.RATE_LIMITS,
    trustedIps: e.RATE_LIMIT_TRUSTED_IPS,
    token: { user: e.RATE_LIMIT_TOKEN_USER, ip: e.RATE_LIMIT_TOKEN_IP },
    orders: { user: e.RATE_LIMIT_ORDERS_USER, ip: e.RATE_LIMIT_ORDERS_IP },
    tickets: { user: e.RATE_LIMIT_TICKETS_USER, ip: e.RATE_LIMIT_TICKETS_IP },
    noSessionIp: e.RATE_LIMIT_NO_SESSION_IP,
    refusalDelayMs: e.RATE_LIMIT_REFUSAL_DELAY_MS,
    signInAccount: e.RATE_LIMIT_SIGNIN_ACCOUNT,
    signInIp: e.RATE_LIMIT_SIGNIN_IP,
    signUpIp: e.RATE_LIMIT_SIGNUP_IP,
    adminWrites: e.RATE_LIMIT_ADMIN_WRITES,
    partnerKey: e.RATE_LIMIT_PARTNER_KEY,
  };
}

const globalForGate = globalThis as unknown as { gate?: Gate };

export function gate(): Gate {
  globalForGate.gate ??= {
    limits: new RateLimits(redis(), rateLimitConfig(env())),
    passes: new PassKeys(env().FLASH_TOKEN_SECRET, env().GATE_PASS_TTL_S),
    captcha: captchaProvider(env()),
    blocklist: new BlocklistView(),
    requireVerifiedEmail: env().GATE_REQUIRE_VERIFIED_EMAIL,
  };
  return globalForGate.gate;
}
