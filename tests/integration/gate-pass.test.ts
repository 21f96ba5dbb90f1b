// The human check before the start: a pass bound to user + sale, handed out for a solved ALTCHA
// challenge or a verified hCaptcha token, and required for the buy token when the sale asks.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { solveChallenge, type Challenge } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/pbkdf2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { ACTIVE_SET, readStats } from "@/lib/flash/store";
import { preheatActivity } from "@/lib/flash/preheat";
import { HCaptchaProvider } from "@/lib/captcha/hcaptcha";
import { PassKeys, passCookieName } from "@/lib/captcha/pass";
import { gateChallengeReply, gatePassReply, gateStatusReply } from "@/lib/gate/http";
import { createActivity, createUsers, tokenFor, type TestActivity } from "../support/flash";
import { request, sessionCookie, startWeb, type TestWeb } from "../support/web";

let web: TestWeb;
let sale: TestActivity;
let open: TestActivity;
let alice = "";
let bob = "";

async function requirePass(a: TestActivity, difficulty = 200) {
  await db().activity.update({ where: { id: a.id }, data: { humanCheck: "REQUIRED", captchaDifficulty: difficulty } });
  await preheatActivity(db(), redis(), a.id);
  web.core.states.invalidate(a.id);
}

const door = (cookie?: string) => ({ gate: web.gate, ip: "127.0.0.1", cookie, secureCookies: false });
const claims = (userId: string) => ({ userId, role: "SHOPPER" as const });

/** Solves the sale's ALTCHA challenge as the widget does, and returns the widget's answer. */
async function solve(activityId: string, userId: string): Promise<string> {
  const reply = await gateChallengeReply(web.core, claims(userId), activityId, door());
  expect(reply.status).toBe(200);
  const challenge = reply.body as Challenge;
  const solution = await solveChallenge({ challenge, deriveKey });
  expect(solution).not.toBeNull();
  return Buffer.from(JSON.stringify({ challenge, solution })).toString("base64");
}

/** The pass cookie a solved answer earns, as the browser would send it back. */
async function passFor(activityId: string, userId: string, answer: string): Promise<string> {
  const reply = await gatePassReply(web.core, claims(userId), activityId, { answer }, door());
  expect(reply.status).toBe(200);
  return String(reply.headers?.["set-cookie"]).split(";")[0]!;
}

beforeAll(async () => {
  web = await startWeb();
  [alice, bob] = (await createUsers(2)) as [string, string];
  sale = await createActivity({ stock: 3 });
  open = await createActivity({ stock: 3 });
  await requirePass(sale);
});
afterAll(async () => {
  await web.close();
  await redis().srem(ACTIVE_SET, sale.id, open.id);
});

describe("the gate pass (ALTCHA, the default provider)", () => {
  it("refuses the buy token without a pass, with a clear code", async () => {
    const r = await request(web.url, "GET", `/api/activities/${sale.id}/token`, { headers: { cookie: await sessionCookie(alice) } });
    expect(r.status).toBe(403);
    expect(r.json().code).toBe("PASS_REQUIRED");
    // A sale that does not ask for the check hands out tokens as before.
    const free = await request(web.url, "GET", `/api/activities/${open.id}/token`, { headers: { cookie: await sessionCookie(alice) } });
    expect(free.status).toBe(200);
  });

  it("hands the token to a shopper who solved the challenge, and the buy goes through", async () => {
    const status = await gateStatusReply(web.core, claims(alice), sale.id, door());
    expect(status.body).toMatchObject({ provider: "altcha", required: true, passed: false });

    const pass = await passFor(sale.id, alice, await solve(sale.id, alice));
    expect(pass.startsWith(`${passCookieName(sale.id)}=`)).toBe(true);
    const cookie = `${await sessionCookie(alice)}; ${pass}`;
    expect((await gateStatusReply(web.core, claims(alice), sale.id, door(cookie))).body).toMatchObject({ passed: true });

    const t = await request(web.url, "GET", `/api/activities/${sale.id}/token`, { headers: { cookie } });
    expect(t.status).toBe(200);
    const token = String(t.json().token);
    expect(token).toBe(tokenFor(sale, alice));
    const body = JSON.stringify({ quantity: 1, idempotencyKey: "gate-pass-buy-1", token });
    const b = await request(web.url, "POST", `/api/activities/${sale.id}/orders`, {
      headers: { cookie, "content-type": "application/json", "content-length": String(body.length) },
      body,
    });
    expect(b.status).toBe(202);
  });

  it("binds the pass to its user and sale: another shopper, another sale or an expired pass is refused", async () => {
    const answer = await solve(sale.id, alice);
    // Alice's solution is worth nothing to Bob, nor for another sale.
    expect((await gatePassReply(web.core, claims(bob), sale.id, { answer }, door())).body).toEqual({ code: "CHECK_FAILED" });
    expect((await gatePassReply(web.core, claims(alice), open.id, { answer }, door())).body).toEqual({ code: "CHECK_FAILED" });
    // A tampered or garbage answer.
    for (const bad of ["x", Buffer.from("{}").toString("base64"), "!!!", Buffer.from('{"challenge":1,"solution":2}').toString("base64")]) {
      expect((await gatePassReply(web.core, claims(alice), sale.id, { answer: bad }, door())).status).toBe(403);
    }
    expect((await gatePassReply(web.core, claims(alice), sale.id, { answer: 42 }, door())).status).toBe(400);

    const alicePass = await passFor(sale.id, alice, answer);
    const asBob = await request(web.url, "GET", `/api/activities/${sale.id}/token`, { headers: { cookie: `${await sessionCookie(bob)}; ${alicePass}` } });
    expect(asBob.json().code).toBe("PASS_REQUIRED");

    const keys = new PassKeys(process.env.FLASH_TOKEN_SECRET!, 60);
    const old = keys.issue(sale.id, alice, Date.now() - 120_000).value;
    const expired = await request(web.url, "GET", `/api/activities/${sale.id}/token`, {
      headers: { cookie: `${await sessionCookie(alice)}; ${passCookieName(sale.id)}=${old}` },
    });
    expect(expired.json().code).toBe("PASS_REQUIRED");
  });

  it("checks the pass in-process: with a warm state and limits off, the token costs Redis nothing", async () => {
    const quiet = await startWeb({ limits: { enabled: false } });
    try {
      const cookie = `${await sessionCookie(alice)}; ${await passFor(sale.id, alice, await solve(sale.id, alice))}`;
      await request(quiet.url, "GET", `/api/activities/${sale.id}/token`, { headers: { cookie } }); // warms the state cache
      const calls = async () => [...(await redis().info("commandstats")).matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      const before = await calls();
      for (let i = 0; i < 5; i++) {
        expect((await request(quiet.url, "GET", `/api/activities/${sale.id}/token`, { headers: { cookie } })).status).toBe(200);
      }
      // The INFO call itself is the only command counted in between.
      expect((await calls()) - before).toBe(1);
    } finally {
      await quiet.close();
    }
  });
});

describe("hCaptcha against a local server speaking siteverify", () => {
  let server: http.Server;
  let verifyUrl = "";
  const seen: URLSearchParams[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString()));
      req.on("end", () => {
        const form = new URLSearchParams(raw);
        seen.push(form);
        const ok = req.method === "POST" && form.get("secret") === "test-secret" && form.get("response") === "good-token";
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(ok ? { success: true, hostname: "localhost" } : { success: false, "error-codes": ["invalid-input-response"] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    verifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/siteverify`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("verifies a token with siteverify (secret, response, sitekey, remoteip) and refuses a bad one", async () => {
    const provider = new HCaptchaProvider({ sitekey: "site-key-1", secret: "test-secret", verifyUrl });
    const ctx = { activityId: sale.id, userId: alice, ip: "203.0.113.9" };
    expect(await provider.verify("good-token", ctx)).toBe(true);
    expect(seen.at(-1)?.get("remoteip")).toBe("203.0.113.9");
    expect(seen.at(-1)?.get("sitekey")).toBe("site-key-1");
    expect(await provider.verify("bad-token", ctx)).toBe(false);
    expect(provider.widget()).toEqual({ provider: "hcaptcha", sitekey: "site-key-1" });
  });

  it("gives the pass through the same door, and none when siteverify is unreachable", async () => {
    const hc = await startWeb({ captcha: new HCaptchaProvider({ sitekey: "site-key-1", secret: "test-secret", verifyUrl }) });
    const down = new HCaptchaProvider({ sitekey: "k", secret: "test-secret", verifyUrl: "http://127.0.0.1:1/siteverify" });
    try {
      const d = { gate: hc.gate, ip: "127.0.0.1", secureCookies: true };
      const ok = await gatePassReply(hc.core, claims(bob), sale.id, { answer: "good-token" }, d);
      expect(ok.status).toBe(200);
      expect(String(ok.headers?.["set-cookie"])).toMatch(/HttpOnly; SameSite=Lax; Secure$/);
      expect((await gatePassReply(hc.core, claims(bob), sale.id, { answer: "bad-token" }, d)).status).toBe(403);
      expect(await down.verify("good-token", { activityId: sale.id, userId: bob })).toBe(false);
    } finally {
      await hc.close();
    }
  });
});

describe("the blocklist", () => {
  it("refuses a blocked account, address or email domain at the token and the buy, counted as BLOCKED", async () => {
    const { addBlock, removeBlock, BlocklistView } = await import("@/lib/gate/blocklist");
    const view = new BlocklistView(undefined, 60_000);
    const b = await startWeb({ blocklist: view });
    const admin = (await db().user.create({ data: { email: `bl-admin-${Date.now()}@flash.test`, name: "A", passwordHash: "x", role: "ADMIN" } })).id;
    const [carol, dave] = (await createUsers(2)) as [string, string];
    const daveEmail = (await db().user.findUniqueOrThrow({ where: { id: dave } })).email;
    const token = async (userId: string, email?: string) => {
      const { encode } = await import("next-auth/jwt");
      const t = await encode({ token: { uid: userId, role: "SHOPPER", sub: userId, ...(email ? { email } : {}) }, secret: process.env.NEXTAUTH_SECRET! });
      return request(b.url, "GET", `/api/activities/${open.id}/token`, { headers: { cookie: `next-auth.session-token=${t}` } });
    };
    try {
      await view.reload();
      expect((await token(carol)).status).toBe(200); // positive control

      const byUser = await addBlock({ kind: "USER", value: carol, note: "scalper" }, admin);
      expect(byUser.ok).toBe(true);
      expect((await addBlock({ kind: "USER", value: carol, note: "" }, admin)).ok).toBe(false); // already blocked
      expect((await addBlock({ kind: "IP", value: "not-an-ip", note: "" }, admin))).toMatchObject({ ok: false, code: "BAD_INPUT" });
      const byDomain = await addBlock({ kind: "EMAIL_DOMAIN", value: `@${daveEmail.split("@")[1]!.toUpperCase()}`, note: "" }, admin);
      expect(byDomain.ok).toBe(true);
      await view.reload();

      const refused = await token(carol);
      expect(refused.status).toBe(403);
      expect(refused.json().code).toBe("BLOCKED");
      expect((await token(dave, daveEmail)).json().code).toBe("BLOCKED");

      const body = JSON.stringify({ quantity: 1, idempotencyKey: "blocked-buy-1", token: tokenFor(open, carol) });
      const { encode } = await import("next-auth/jwt");
      const cookie = `next-auth.session-token=${await encode({ token: { uid: carol, role: "SHOPPER" }, secret: process.env.NEXTAUTH_SECRET! })}`;
      const buy = await request(b.url, "POST", `/api/activities/${open.id}/orders`, { headers: { cookie, "content-type": "application/json", "content-length": String(body.length) }, body });
      expect(buy.json().code).toBe("BLOCKED");
      await b.core.flushMetrics();
      expect((await readStats(redis(), open.id)).refused.BLOCKED).toBeGreaterThanOrEqual(3);

      // An address: the test client's own.
      const byIp = await addBlock({ kind: "IP", value: "127.0.0.1", note: "" }, admin);
      await view.reload();
      const [erin] = await createUsers(1);
      expect((await token(erin!)).json().code).toBe("BLOCKED");

      for (const r of [byUser, byDomain, byIp]) if (r.ok) expect((await removeBlock(r.id, admin)).ok).toBe(true);
      await view.reload();
      expect((await token(carol)).status).toBe(200);
    } finally {
      await b.close();
      await db().blockedEntry.deleteMany({ where: { createdById: admin } });
    }
  });
});
