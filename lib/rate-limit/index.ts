import "server-only";
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RateSpec } from "@/lib/gate/env";
import { errorText, log } from "@/lib/log";

export type Verdict = { ok: true } | { ok: false; retryAfterS: number };
export type HotRoute = "token" | "orders" | "tickets";

export interface RateLimitConfig {
  enabled: boolean;
  trustedIps: readonly string[];
  token: { user: RateSpec; ip: RateSpec };
  orders: { user: RateSpec; ip: RateSpec };
  tickets: { user: RateSpec; ip: RateSpec };
  signInAccount: RateSpec;
  signInIp: RateSpec;
  signUpIp: RateSpec;
  adminWrites: RateSpec;
}

const OK: Verdict = { ok: true };
const LOCKOUT_BASE_S = 60;
const LOCKOUT_MAX_S = 24 * 3600;
const logger = log.child({ component: "rate-limit" });

/**
 * Counters live in Redis so every web process shares them; once a key is over its limit it is also
 * blocked in this process's memory until its window ends, so a flood costs no Redis call at all.
 * If Redis fails, an in-memory limiter of the same size stands in (the library's "insurance").
 */
function limiter(redis: Redis, prefix: string, spec: RateSpec): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `rl:${prefix}`,
    points: spec.points,
    duration: spec.seconds,
    inMemoryBlockOnConsumed: spec.points + 1,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: `rl:${prefix}`, points: spec.points, duration: spec.seconds }),
  });
}

const retryAfter = (res: RateLimiterRes): Verdict => ({ ok: false, retryAfterS: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) });

/** The verdict of several consumes: refused if any limiter refused, waiting for the longest. */
async function combine(consumes: Promise<unknown>[]): Promise<Verdict> {
  let worst: Verdict = OK;
  for (const r of await Promise.allSettled(consumes)) {
    if (r.status === "fulfilled") continue;
    if (r.reason instanceof RateLimiterRes) {
      const v = retryAfter(r.reason);
      if (worst.ok || (!v.ok && v.retryAfterS > worst.retryAfterS)) worst = v;
    } else {
      // Both Redis and the in-memory stand-in failed: let the request through; admission decides.
      logger.error({ err: errorText(r.reason) }, "rate limiter failed");
    }
  }
  return worst;
}

export class RateLimits {
  private hot: Record<HotRoute, { user: RateLimiterRedis; ip: RateLimiterRedis }>;
  private signInAccount: RateLimiterRedis;
  private signInIp: RateLimiterRedis;
  private lockouts: RateLimiterRedis;
  private signUpIp: RateLimiterRedis;
  private adminWrites: RateLimiterRedis;
  private trusted: Set<string>;

  constructor(redis: Redis, private config: RateLimitConfig) {
    const pair = (route: HotRoute) => ({
      user: limiter(redis, `${route}:u`, config[route].user),
      ip: limiter(redis, `${route}:ip`, config[route].ip),
    });
    this.hot = { token: pair("token"), orders: pair("orders"), tickets: pair("tickets") };
    this.signInAccount = limiter(redis, "signin:acct", config.signInAccount);
    this.signInIp = limiter(redis, "signin:ip", config.signInIp);
    this.lockouts = limiter(redis, "signin:lockouts", { points: 1_000_000, seconds: LOCKOUT_MAX_S });
    this.signUpIp = limiter(redis, "signup:ip", config.signUpIp);
    this.adminWrites = limiter(redis, "admin", config.adminWrites);
    this.trusted = new Set(config.trustedIps);
  }

  private ipCounted(ip: string | null | undefined): ip is string {
    return !!ip && !this.trusted.has(ip);
  }

  /** One request of a signed-in user to a hot route: counts against the user and the client address. */
  hit(route: HotRoute, userId: string, ip?: string | null): Promise<Verdict> {
    if (!this.config.enabled) return Promise.resolve(OK);
    const { user, ip: byIp } = this.hot[route];
    return combine([user.consume(userId), ...(this.ipCounted(ip) ? [byIp.consume(ip)] : [])]);
  }

  /** Before a password is checked: is this account or address locked out? Costs no point. */
  async signInAllowed(email: string, ip?: string | null): Promise<Verdict> {
    if (!this.config.enabled) return OK;
    const [acct, addr] = await Promise.all([
      this.signInAccount.get(email),
      this.ipCounted(ip) ? this.signInIp.get(ip) : null,
    ]);
    const over = [
      acct && acct.consumedPoints > this.config.signInAccount.points ? acct : null,
      addr && addr.consumedPoints > this.config.signInIp.points ? addr : null,
    ].filter((r): r is RateLimiterRes => r !== null);
    if (!over.length) return OK;
    return retryAfter(over.reduce((a, b) => (a.msBeforeNext > b.msBeforeNext ? a : b)));
  }

  /** A wrong password: counts for the account and the address; past the limit the account is locked, longer each time. */
  async signInFailed(email: string, ip?: string | null): Promise<void> {
    if (!this.config.enabled) return;
    const verdict = await combine([this.signInAccount.consume(email), ...(this.ipCounted(ip) ? [this.signInIp.consume(ip)] : [])]);
    if (verdict.ok) return;
    const acct = await this.signInAccount.get(email);
    if (acct && acct.consumedPoints === this.config.signInAccount.points + 1) {
      // The first refusal of this window starts a lockout: 1, 2, 4 … minutes for repeated lockouts in a day.
      const n = (await this.lockouts.consume(email).catch((e: unknown) => (e instanceof RateLimiterRes ? e : null)))?.consumedPoints ?? 1;
      await this.signInAccount.block(email, Math.min(LOCKOUT_MAX_S, LOCKOUT_BASE_S * 2 ** (n - 1)));
    }
  }

  /** The right password ends the account's run of failures (not its lockout history). */
  async signInSucceeded(email: string): Promise<void> {
    if (this.config.enabled) await this.signInAccount.delete(email);
  }

  signUp(ip?: string | null): Promise<Verdict> {
    if (!this.config.enabled || !this.ipCounted(ip)) return Promise.resolve(OK);
    return combine([this.signUpIp.consume(ip)]);
  }

  adminWrite(adminId: string): Promise<Verdict> {
    if (!this.config.enabled) return Promise.resolve(OK);
    return combine([this.adminWrites.consume(adminId)]);
  }
}
