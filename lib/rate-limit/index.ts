import "server-only";
import type { RedisClient } from "@/lib/redis-connect";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { RATE_LIMIT_PREFIX } from "@/lib/flash/store/layout";
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
  /** Hot-route requests without a valid session (none, forged, expired), per address, in memory. */
  noSessionIp: RateSpec;
  /**
   * How long a 429 is held before it is sent. A script on N connections that fires again as soon as
   * it is answered then costs at most N requests per delay, whatever it tries; people wait anyway.
   */
  refusalDelayMs: number;
  signInAccount: RateSpec;
  signInIp: RateSpec;
  signUpIp: RateSpec;
  adminWrites: RateSpec;
  /** Requests per partner API key (docs/channels.md); absent: the default 600 per 10 s. */
  partnerKey?: RateSpec;
}

const OK: Verdict = { ok: true };
// Keys a hot-route limiter remembers as counted in this process (per generation): past it, every request waits for Redis.
const MAX_FIRST_HITS = 200_000;
const LOCKOUT_BASE_S = 60;
const LOCKOUT_MAX_S = 24 * 3600;
// Addresses remembered as locked or blocked in this process: an attacker with many cannot grow it past this.
const MAX_ADDRESS_BLOCKS = 10_000;
const logger = log.child({ component: "rate-limit" });

/**
 * Counters live in Redis so every web process shares them; once a key is over its limit it is also
 * blocked in this process's memory until its window ends, so a flood costs no Redis call at all.
 * If Redis fails, an in-memory limiter of the same size stands in (the library's "insurance").
 */
function storeLimiter(redis: RedisClient, prefix: string, spec: RateSpec, memoryBlock = true): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: prefix,
    points: spec.points,
    duration: spec.seconds,
    ...(memoryBlock ? { inMemoryBlockOnConsumed: spec.points + 1 } : {}),
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: prefix, points: spec.points, duration: spec.seconds }),
  });
}

// A public method of the library's store limiters that its type declarations leave out.
type WithMemoryBlock = { getInMemoryBlockMsBeforeExpire(rlKey: string): number };
const memoryBlockMs = (l: RateLimiterRedis, key: string): number =>
  (l as unknown as WithMemoryBlock).getInMemoryBlockMsBeforeExpire(l.getKey(key));

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

/**
 * Which keys this process has counted in the last window or two. A key's first request here is
 * answered on that alone while Redis counts it in the background; the ones after it wait for Redis.
 * Hand-written: the library has no "first request in this process" question, and its memory limiter
 * keeps a timer per key. Two generations of one window each, so a key is forgotten only after its
 * Redis window (started no later than its first request here) has ended.
 */
class FirstHits {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotateAt: number;

  constructor(private windowMs: number) {
    this.rotateAt = Date.now() + windowMs;
  }

  /** True for a key not counted here lately (and remembers it); false for a repeat, or when full. */
  claim(key: string, now = Date.now()): boolean {
    if (now >= this.rotateAt) {
      this.previous = now >= this.rotateAt + this.windowMs ? new Set() : this.current;
      this.current = new Set();
      this.rotateAt = now + this.windowMs;
    }
    if (this.current.has(key) || this.previous.has(key) || this.current.size >= MAX_FIRST_HITS) return false;
    this.current.add(key);
    return true;
  }
}

type Counted = { limiter: RateLimiterRedis; first: FirstHits };

export class RateLimits {
  private hot: Record<HotRoute, { user: Counted; ip: Counted }>;
  /** Consumes counted in the background and not yet answered by Redis (see hit). */
  private background = new Set<Promise<unknown>>();
  private signInAccount: RateLimiterRedis;
  private signInIp: RateLimiterRedis;
  private lockouts: RateLimiterRedis;
  private signUpIp: RateLimiterRedis;
  private adminWrites: RateLimiterRedis;
  private partnerKeys: RateLimiterRedis;
  private trusted: Set<string>;
  /** Addresses this process saw locked out of sign-in, until when (ms): answered before Next.js. */
  private lockedIps = new Map<string, number>();
  /**
   * Told of every address this process finds locked out of sign-in. Sign-in runs in the pages
   * process (Next.js), the early refusal in the web process's front door: scripts/server.ts passes
   * the lockout on to it (signInLockedElsewhere).
   */
  onSignInLock?: (ip: string, ms: number) => void;
  /** Addresses over the no-session limit, until when (ms): answered before any session is decoded. */
  private noSessionBlocks = new Map<string, number>();
  private noSession: RateLimiterMemory;

  /** `namespace` prefixes every Redis key (tests use their own). */
  constructor(redis: RedisClient, private config: RateLimitConfig, namespace = RATE_LIMIT_PREFIX) {
    const limiter = (name: string, spec: RateSpec, memoryBlock?: boolean) => storeLimiter(redis, `${namespace}:${name}`, spec, memoryBlock);
    const counted = (name: string, spec: RateSpec): Counted => ({ limiter: limiter(name, spec), first: new FirstHits(spec.seconds * 1000) });
    const pair = (route: HotRoute) => ({
      user: counted(`${route}:u`, config[route].user),
      ip: counted(`${route}:ip`, config[route].ip),
    });
    this.hot = { token: pair("token"), orders: pair("orders"), tickets: pair("tickets") };
    // Sign-in counters are read before each attempt and a lockout is shorter than the window, so they
    // are never blocked in memory: Redis alone says when an account may try again.
    this.signInAccount = limiter("signin:acct", config.signInAccount, false);
    this.signInIp = limiter("signin:ip", config.signInIp, false);
    this.lockouts = limiter("signin:lockouts", { points: 1_000_000, seconds: LOCKOUT_MAX_S }, false);
    this.signUpIp = limiter("signup:ip", config.signUpIp);
    this.adminWrites = limiter("admin", config.adminWrites);
    this.partnerKeys = limiter("partner", config.partnerKey ?? { points: 600, seconds: 10 });
    this.trusted = new Set(config.trustedIps);
    // In memory only: a forged-token flood is one process's problem and must not cost Redis calls.
    this.noSession = new RateLimiterMemory({ keyPrefix: "nosession", points: config.noSessionIp.points, duration: config.noSessionIp.seconds });
  }

  get refusalDelayMs(): number {
    return this.config.refusalDelayMs;
  }

  /** Limits are counted at all (RATE_LIMITS); off, a hot route need not ask (hit would answer OK). */
  get enabled(): boolean {
    return this.config.enabled;
  }

  private ipCounted(ip: string | null | undefined): ip is string {
    return !!ip && !this.trusted.has(ip);
  }

  /**
   * One request of a signed-in user to a hot route: counts against the user and the client address.
   * A key's first request in this process within its window is let through at once while Redis
   * counts it in the background (a shopper's one token and one click cost no round trip, which with
   * an fsync'd Redis is most of the click's time); from its second on, the verdict waits for Redis's
   * count, shared by every process. A background count that finds the key over its limit blocks it
   * here, so a user spread over K processes gets at most K requests past the limit per window.
   */
  hit(route: HotRoute, userId: string, ip?: string | null): Promise<Verdict> {
    if (!this.config.enabled) return Promise.resolve(OK);
    const { user, ip: byIp } = this.hot[route];
    const counted = this.ipCounted(ip);
    // Already over a limit in this process: answered without consuming anything anywhere.
    const blockedMs = Math.max(memoryBlockMs(user.limiter, userId), counted ? memoryBlockMs(byIp.limiter, ip) : 0);
    if (blockedMs > 0) return Promise.resolve({ ok: false, retryAfterS: Math.ceil(blockedMs / 1000) });
    const now = Date.now();
    const waits: Promise<unknown>[] = [];
    this.count(user, userId, now, waits);
    if (counted) this.count(byIp, ip, now, waits);
    return waits.length ? combine(waits) : Promise.resolve(OK);
  }

  private count({ limiter, first }: Counted, key: string, now: number, waits: Promise<unknown>[]) {
    const consumed = limiter.consume(key);
    if (!first.claim(key, now)) {
      waits.push(consumed);
      return;
    }
    // Over the limit, the library has blocked the key in memory; anything else is the limiter failing.
    const settled = consumed.then(
      () => undefined,
      (e: unknown) => {
        if (!(e instanceof RateLimiterRes)) logger.error({ err: errorText(e) }, "rate limiter failed");
      },
    );
    this.background.add(settled);
    void settled.then(() => this.background.delete(settled));
  }

  /** Resolves when every count sent in the background has been answered (tests). */
  async settled(): Promise<void> {
    while (this.background.size) await Promise.all(this.background);
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
    if (addr && over.includes(addr) && ip) this.lockSignIn(ip, addr.msBeforeNext);
    return retryAfter(over.reduce((a, b) => (a.msBeforeNext > b.msBeforeNext ? a : b)));
  }

  private lockSignIn(ip: string, ms: number) {
    remember(this.lockedIps, ip, ms);
    this.onSignInLock?.(ip, ms);
  }

  /** An address another process (this web process's pages process) found locked out of sign-in for `ms`. */
  signInLockedElsewhere(ip: string, ms: number): void {
    if (this.config.enabled && typeof ip === "string" && ip && Number.isFinite(ms) && ms > 0) remember(this.lockedIps, ip, Math.min(ms, LOCKOUT_MAX_S * 1000));
  }

  /** Seconds this address is still locked out of sign-in, as far as this process knows (no Redis call); 0 if not. */
  signInLockedHere(ip: string | null | undefined, now = Date.now()): number {
    return this.config.enabled && ip ? secondsLeft(this.lockedIps, ip, now) : 0;
  }

  /**
   * Before a hot route reads the session: seconds this address must still wait because it sent too
   * many requests without a valid session (forged or random tokens), as this process knows; 0 if not.
   * No Redis call and no cryptography: a forged-token flood is refused by a map lookup.
   */
  addressBlockedHere(ip: string | null | undefined, now = Date.now()): number {
    return this.config.enabled && this.ipCounted(ip) ? secondsLeft(this.noSessionBlocks, ip, now) : 0;
  }

  /** A hot-route request without a valid session from this address: counted in memory; past the limit the address waits. */
  async withoutSession(ip: string | null | undefined): Promise<Verdict> {
    if (!this.config.enabled || !this.ipCounted(ip)) return OK;
    // In memory, so it cannot fail; its last point spent, the address waits out the window.
    const res = await this.noSession.consume(ip).catch((e: unknown) => e as RateLimiterRes);
    if (res.remainingPoints > 0) return OK;
    remember(this.noSessionBlocks, ip, res.msBeforeNext);
    return retryAfter(res);
  }

  /** A wrong password: counts for the account and the address; past the limit the account is locked, longer each time. */
  async signInFailed(email: string, ip?: string | null): Promise<void> {
    if (!this.config.enabled) return;
    const [acctVerdict, ipVerdict] = await Promise.all([
      combine([this.signInAccount.consume(email)]),
      this.ipCounted(ip) ? combine([this.signInIp.consume(ip)]) : OK,
    ]);
    if (!ipVerdict.ok && ip) this.lockSignIn(ip, ipVerdict.retryAfterS * 1000);
    if (acctVerdict.ok) return;
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

  /** One request made with a partner's API key (counted per key, whether or not RATE_LIMITS is on). */
  partnerKey(keyId: string): Promise<Verdict> {
    const blockedMs = memoryBlockMs(this.partnerKeys, keyId);
    if (blockedMs > 0) return Promise.resolve({ ok: false, retryAfterS: Math.ceil(blockedMs / 1000) });
    return combine([this.partnerKeys.consume(keyId)]);
  }

  adminWrite(adminId: string): Promise<Verdict> {
    if (!this.config.enabled) return Promise.resolve(OK);
    return combine([this.adminWrites.consume(adminId)]);
  }
}

/** Records `ip` as blocked for `ms`; bounded: expired entries go first, then the oldest. */
function remember(blocks: Map<string, number>, ip: string, ms: number) {
  if (blocks.size >= MAX_ADDRESS_BLOCKS) {
    const now = Date.now();
    for (const [k, until] of blocks) if (until <= now) blocks.delete(k);
    if (blocks.size >= MAX_ADDRESS_BLOCKS) blocks.delete(blocks.keys().next().value!);
  }
  blocks.set(ip, Date.now() + ms);
}

function secondsLeft(blocks: Map<string, number>, ip: string, now: number): number {
  const until = blocks.get(ip);
  if (until === undefined) return 0;
  if (until <= now) {
    blocks.delete(ip);
    return 0;
  }
  return Math.ceil((until - now) / 1000);
}
