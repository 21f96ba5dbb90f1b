// Rate limits of the gate: hot routes per user and per address (429 RATE_LIMITED + Retry-After),
// the in-process layer that keeps a flood off Redis, sign-in lockout with backoff, admin writes.
process.env.RATE_LIMIT_ADMIN_WRITES = "2/60";

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { ACTIVE_SET, readStats } from "@/lib/flash/store";
import { hashPassword } from "@/lib/auth/password";
import { refuseLockedSignIn, signInWithLimits } from "@/lib/auth/sign-in";
import { authOptions } from "@/lib/auth/options";
import { adminWriteAllowed } from "@/lib/admin/guard";
import { RateLimits } from "@/lib/rate-limit";
import { createActivity, createUsers, type TestActivity } from "../support/flash";
import { limitsConfig, request, sessionCookie, startWeb, testLimits, type TestWeb } from "../support/web";

const tag = () => randomBytes(4).toString("hex");
let a: TestActivity;

beforeAll(async () => {
  a = await createActivity({ stock: 5, startInMs: 600_000 });
});
afterAll(() => redis().srem(ACTIVE_SET, a.id));

/**
 * What the hot-route limiters have counted in Redis for a key (rate-limiter-flexible keeps one integer
 * at `<prefix>:<key>`; the test limiters' prefixes start rl-test-), by Redis key. Read from this test's
 * own keys, so nothing else running against the same Redis moves it (Redis-wide script counts would).
 */
async function counted(pattern: string): Promise<Record<string, number>> {
  const keys = await redis().keys(pattern);
  const values = keys.length ? await redis().mget(...keys) : [];
  return Object.fromEntries(keys.map((k, i) => [k, Number(values[i])]));
}

describe("rate limits on the hot routes", () => {
  let web: TestWeb;
  afterAll(() => web?.close());

  it("answer 429 RATE_LIMITED with Retry-After past the per-user limit, and then cost Redis nothing", async () => {
    web = await startWeb({ limits: { token: { user: { points: 3, seconds: 60 }, ip: { points: 1000, seconds: 60 } } } });
    const [u] = await createUsers(1);
    const cookie = await sessionCookie(u!);
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) codes.push(String((await request(web.url, "GET", `/api/activities/${a.id}/token`, { headers: { cookie } })).json().code));
    expect(codes).toEqual(["NOT_STARTED", "NOT_STARTED", "NOT_STARTED"]);

    const limited = await request(web.url, "GET", `/api/activities/${a.id}/token`, { headers: { cookie } });
    expect(limited.status).toBe(429);
    expect(limited.json()).toMatchObject({ code: "RATE_LIMITED" });
    const retry = Number(limited.headers["retry-after"]);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(limited.json().retryAfter).toBe(retry);

    // The in-process layer answers the flood: Redis counts none of it, for the user or the address.
    const [userKey] = await redis().keys(`rl-test-*:token:u:${u}`);
    const ns = userKey!.slice(0, userKey!.indexOf(":token:"));
    const before = await counted(`${ns}:token:*`);
    expect(before).toEqual({ [userKey!]: 4, [`${ns}:token:ip:127.0.0.1`]: 4 });
    for (let i = 0; i < 50; i++) expect((await request(web.url, "GET", `/api/activities/${a.id}/token`, { headers: { cookie } })).status).toBe(429);
    expect(await counted(`${ns}:token:*`)).toEqual(before);

    // Another shopper is not affected.
    const [v] = await createUsers(1);
    const other = await request(web.url, "GET", `/api/activities/${a.id}/token`, { headers: { cookie: await sessionCookie(v!) } });
    expect(other.json().code).toBe("NOT_STARTED");

    // Every refusal is counted by reason on the sale's dashboard.
    await web.core.flushMetrics();
    expect((await readStats(redis(), a.id)).refused.RATE_LIMITED).toBe(51);
  });

  it("limit one address across users, except trusted addresses", async () => {
    await web?.close();
    const ipLimit = { user: { points: 100, seconds: 60 }, ip: { points: 4, seconds: 60 } };
    web = await startWeb({ limits: { tickets: ipLimit, trustedIps: [] } });
    const users = await createUsers(6);
    const statuses: number[] = [];
    for (const u of users) statuses.push((await request(web.url, "GET", `/api/tickets/${a.id}.${"A".repeat(22)}`, { headers: { cookie: await sessionCookie(u) } })).status);
    expect(statuses).toEqual([404, 404, 404, 404, 429, 429]);

    await web.close();
    web = await startWeb({ limits: { tickets: { ...ipLimit, ip: { points: 1, seconds: 60 } }, trustedIps: ["127.0.0.1"] } });
    for (const u of users) {
      const r = await request(web.url, "GET", `/api/tickets/${a.id}.${"A".repeat(22)}`, { headers: { cookie: await sessionCookie(u) } });
      expect(r.status).toBe(404);
    }
  });

  // finding: 20,000 forged bearer tokens were each decoded (and cached); a bot's closed loop met no limit at all
  it("refuse an address that keeps sending no valid session before its token is read, and hold every 429", async () => {
    await web?.close();
    web = await startWeb({ limits: { noSessionIp: { points: 5, seconds: 60 }, refusalDelayMs: 400, trustedIps: [] } });
    // Shaped like a session token (so it would be decrypted and its digest cached), but forged.
    const forged = (i: number) => ({ authorization: `Bearer eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..${"A".repeat(16)}.${i}${"B".repeat(40)}.CCCCCCCCCCCCCCCCCCCCCC` });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await request(web.url, "GET", `/api/activities/${a.id}/token`, { headers: forged(i) })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const cached = web.sessions.cacheSizes();

    const t0 = performance.now();
    const refused = await request(web.url, "GET", `/api/activities/${a.id}/token`, { headers: forged(99) });
    expect(refused.status).toBe(429);
    expect(refused.json()).toMatchObject({ code: "RATE_LIMITED" });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    // Held for the refusal delay (a tarpit), and the token was never looked at: no cache entry.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    expect(web.sessions.cacheSizes()).toEqual(cached);
    // The same on every hot route that reads a session; the shared progress stays open.
    expect((await request(web.url, "GET", `/api/tickets/${a.id}.${"A".repeat(22)}`)).status).toBe(429);
    expect((await request(web.url, "GET", `/api/activities/${a.id}/progress`)).status).toBe(200);
  });

  // A forged-token flood on a few connections answered at once took a quarter of the sale's core (bench: bots).
  it("hold a 401 to a credential that is no session (forged, oversized), not to a shopper who sent none", async () => {
    await web?.close();
    web = await startWeb({ limits: { noSessionIp: { points: 1000, seconds: 60 }, refusalDelayMs: 400, trustedIps: [] } });
    const done: string[] = [];
    const t0 = performance.now();
    const tagged = (name: string, headers: Record<string, string>) =>
      request(web.url, "GET", `/api/activities/${a.id}/token`, { headers }).then((r) => (done.push(name), r));
    const [oversized, forged, none] = await Promise.all([
      tagged("oversized", { authorization: `Bearer ${"x".repeat(8192)}` }),
      tagged("forged", { cookie: "next-auth.session-token=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC" }),
      tagged("none", {}),
    ]);
    for (const r of [oversized, forged, none]) expect(r.json()).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(done[0]).toBe("none");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
  });

  // With an fsync'd Redis a counted round trip is most of a click's time (bench: --gate on vs off).
  it("let a key's first request in a process through at once, count it in Redis, and make repeats wait for Redis", async () => {
    const config = { token: { user: { points: 2, seconds: 60 }, ip: { points: 1000, seconds: 60 } }, trustedIps: [] };
    const ns = `rl-test-${tag()}`;
    const [a1, b1, c1] = [0, 1, 2].map(() => new RateLimits(redis(), limitsConfig(config), ns));
    // Each process's first request answers before Redis has counted it…
    const first = a1!.hit("token", "spread-user", "10.9.9.9");
    let answered = false;
    void first.then(() => (answered = true));
    await Promise.resolve();
    expect(answered).toBe(true);
    expect(await first).toEqual({ ok: true });
    expect((await b1!.hit("token", "spread-user", "10.9.9.9")).ok).toBe(true);
    expect((await c1!.hit("token", "spread-user", "10.9.9.9")).ok).toBe(true);
    await Promise.all([a1!.settled(), b1!.settled(), c1!.settled()]);
    // …but Redis counted all three (user and address), and the one over the limit blocked it where it ran.
    expect(await counted(`${ns}:token:*`)).toEqual({ [`${ns}:token:u:spread-user`]: 3, [`${ns}:token:ip:10.9.9.9`]: 3 });
    expect(await c1!.hit("token", "spread-user", "10.9.9.9")).toMatchObject({ ok: false });
    // A repeat waits for Redis's count, which the other processes' first requests are in.
    expect(await a1!.hit("token", "spread-user", "10.9.9.9")).toMatchObject({ ok: false });
    expect((await a1!.hit("token", "another-user", "10.9.9.9")).ok).toBe(true);
  });

  it("are all off with RATE_LIMITS=0 (side-by-side benchmarks)", async () => {
    const off = testLimits({ enabled: false, token: { user: { points: 1, seconds: 60 }, ip: { points: 1, seconds: 60 } } });
    for (let i = 0; i < 5; i++) expect((await off.hit("token", "same-user", "10.0.0.1")).ok).toBe(true);
  });
});

describe("sign-in lockout and backoff", () => {
  let namespace = "";
  const limits = () => new RateLimits(redis(), limitsConfig({ signInAccount: { points: 5, seconds: 900 }, signInIp: { points: 8, seconds: 900 } }), namespace);
  let email = "";

  beforeAll(async () => {
    namespace = `rl-test-${tag()}`;
    email = `lockout-${tag()}@flash.test`;
    await db().user.create({ data: { email, name: "Lockout", passwordHash: await hashPassword("right-password-1") } });
  });

  // finding: 30 wrong admin passwords in a row, then the right one still worked
  it("locks an account after 5 wrong passwords: even the right one is refused until the lockout ends", async () => {
    const l = limits();
    const ip = `10.1.${Math.floor(Math.random() * 200)}.1`;
    for (let i = 0; i < 5; i++) expect(await signInWithLimits(l, email, "wrong-password", ip)).toEqual({ ok: false, code: "WRONG_CREDENTIALS" });
    // The sixth wrong one starts the lockout.
    expect(await signInWithLimits(l, email, "wrong-password", ip)).toEqual({ ok: false, code: "WRONG_CREDENTIALS" });
    const locked = await signInWithLimits(l, email, "right-password-1", ip);
    expect(locked).toMatchObject({ ok: false, code: "RATE_LIMITED" });
    const first = locked.ok || locked.code !== "RATE_LIMITED" ? 0 : locked.retryAfterS;
    expect(first).toBeGreaterThan(30);
    expect(first).toBeLessThanOrEqual(60);

    // When it ends (the key expires), the next run of failures locks the account twice as long.
    await redis().del(`${namespace}:signin:acct:${email}`);
    for (let i = 0; i < 6; i++) await signInWithLimits(l, email, "wrong-password", `10.2.0.${i}`);
    const again = await signInWithLimits(l, email, "right-password-1", "10.2.0.9");
    expect(again).toMatchObject({ ok: false, code: "RATE_LIMITED" });
    expect(again.ok || again.code !== "RATE_LIMITED" ? 0 : again.retryAfterS).toBeGreaterThan(60);
  });

  it("a right password before the lockout clears the run of failures", async () => {
    const l = limits();
    const fresh = `clear-${tag()}@flash.test`;
    await db().user.create({ data: { email: fresh, name: "Clear", passwordHash: await hashPassword("right-password-1") } });
    for (let i = 0; i < 4; i++) await signInWithLimits(l, fresh, "wrong-password", "10.3.0.1");
    expect(await signInWithLimits(l, fresh, "right-password-1", "10.3.0.1")).toMatchObject({ ok: true });
    for (let i = 0; i < 4; i++) await signInWithLimits(l, fresh, "wrong-password", "10.3.0.1");
    expect(await signInWithLimits(l, fresh, "right-password-1", "10.3.0.1")).toMatchObject({ ok: true });
  });

  it("locks an address that guesses across many accounts (unknown emails included)", async () => {
    const l = limits();
    const ip = `10.4.${Math.floor(Math.random() * 200)}.7`;
    for (let i = 0; i < 9; i++) await signInWithLimits(l, `nobody-${tag()}@flash.test`, "guess", ip);
    expect(await signInWithLimits(l, email, "right-password-1", ip)).toMatchObject({ ok: false, code: "RATE_LIMITED" });

    // This process now answers that address's sign-ins at the front door, before Next.js, in next-auth's shape.
    expect(l.signInLockedHere(ip)).toBeGreaterThan(0);
    expect(l.signInLockedHere("10.9.9.9")).toBe(0);
    const early = refuseLockedSignIn(l, "http://shop.test")("POST", "/api/auth/callback/credentials", ip);
    expect(early?.status).toBe(429);
    const url = new URL((early?.body as { url: string }).url);
    expect(url.searchParams.get("error")).toMatch(/^RATE_LIMITED:\d+$/);
    expect(refuseLockedSignIn(l, "http://shop.test")("GET", "/api/auth/csrf", ip)).toBeNull();
  });

  // Sign-in runs in the pages process, the early refusal in the web process (scripts/server.ts passes it on):
  // without this the front door never learnt of a lockout and a guessing script kept Next.js busy (bench: bots).
  it("tells another process of an address it locks, and that process then refuses it at its front door", async () => {
    const pages = limits();
    const web = limits();
    const told: { ip: string; ms: number }[] = [];
    pages.onSignInLock = (ip, ms) => told.push({ ip, ms });
    const ip = `10.5.${Math.floor(Math.random() * 200)}.8`;
    for (let i = 0; i < 9; i++) await signInWithLimits(pages, `nobody-${tag()}@flash.test`, "guess", ip);
    expect(told).toEqual([{ ip, ms: expect.any(Number) }]);
    expect(told[0]!.ms).toBeGreaterThan(0);

    expect(web.signInLockedHere(ip)).toBe(0);
    web.signInLockedElsewhere(told[0]!.ip, told[0]!.ms);
    expect(web.signInLockedHere(ip)).toBeGreaterThan(0);
    expect(refuseLockedSignIn(web, "http://shop.test")("POST", "/api/auth/callback/credentials", ip)?.status).toBe(429);
    // A garbled message changes nothing.
    web.signInLockedElsewhere("10.5.0.1", Number.NaN);
    web.signInLockedElsewhere("10.5.0.2", -5);
    expect(web.signInLockedHere("10.5.0.1") + web.signInLockedHere("10.5.0.2")).toBe(0);
  });
});

describe("admin writes and redirects", () => {
  it("rate limits each admin's writes (RATE_LIMIT_ADMIN_WRITES=2/60 here)", async () => {
    const admin = { id: `admin-${tag()}`, email: "a@flash.test" };
    expect((await adminWriteAllowed(admin)).ok).toBe(true);
    expect((await adminWriteAllowed(admin)).ok).toBe(true);
    expect(await adminWriteAllowed(admin)).toMatchObject({ ok: false, code: "RATE_LIMITED" });
  });

  // finding: next-auth's callback followed callbackUrl=http://localhost:3000.evil.example/
  it("next-auth's redirect callback keeps every redirect on the site", async () => {
    const redirect = authOptions().callbacks!.redirect!;
    const baseUrl = "http://localhost:3000";
    expect(await redirect({ url: "http://localhost:3000.evil.example/", baseUrl })).toBe(baseUrl);
    expect(await redirect({ url: "/\\evil.example/", baseUrl })).toBe(baseUrl);
    expect(await redirect({ url: "/orders", baseUrl })).toBe(`${baseUrl}/orders`);
  });
});
