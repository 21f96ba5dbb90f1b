// One account per verified email: the sign-up mails a link (through a local SMTP sink here), the link
// confirms the address, and a gate that requires it hands buy tokens only to confirmed sessions.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const inbox: { to: string; raw: string }[] = [];
const sink = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  onData(stream, session, done) {
    let raw = "";
    stream.on("data", (c: Buffer) => (raw += c.toString("utf8")));
    stream.on("end", () => {
      inbox.push({ to: session.envelope.rcptTo[0]?.address ?? "", raw });
      done();
    });
  },
});
await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
process.env.SMTP_URL = `smtp://127.0.0.1:${(sink.server.address() as AddressInfo).port}`;
process.env.NEXTAUTH_URL = "http://shop.test";
process.env.RATE_LIMIT_SIGNUP_IP = "3/3600";

// The sign-up's request headers; the address is the one the front door would have recorded.
const client = vi.hoisted(() => ({ ip: "192.0.2.10" }));
vi.mock("next/headers", () => ({ headers: async () => new Headers({ host: "shop.test", "x-flash-client-ip": client.ip }) }));

const { signUp } = await import("@/app/[locale]/(auth)/actions");
const { verifyEmail, verificationToken } = await import("@/lib/auth/email-verification");
const { authenticate } = await import("@/lib/auth/users");
const { db } = await import("@/lib/db");
const { redis } = await import("@/lib/redis");
const { ACTIVE_SET } = await import("@/lib/flash/store");
const { encode } = await import("next-auth/jwt");
const { createActivity } = await import("../support/flash");
const { request, startWeb } = await import("../support/web");

afterAll(() => new Promise<void>((r) => sink.close(() => r())));

const form = (fields: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
};

describe("email verification", () => {
  const email = `verify-${Date.now()}@flash.test`;
  let link = "";

  beforeAll(async () => {
    const result = await signUp(null, form({ name: "Vera", email, password: "long-enough-password" }));
    expect(result).toEqual({ ok: true, email });
    await vi.waitFor(() => expect(inbox.some((m) => m.to === email)).toBe(true));
    const raw = inbox.find((m) => m.to === email)!.raw.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
    link = /http:\/\/shop\.test\/verify-email\?token=[A-Za-z0-9._-]+/.exec(raw)?.[0] ?? "";
  });

  it("mails a link at sign-up that confirms the address, once and for good", async () => {
    expect(link).not.toBe("");
    expect((await authenticate(email, "long-enough-password"))?.verified).toBe(false);
    const token = new URL(link).searchParams.get("token")!;
    expect(await verifyEmail(token)).toEqual({ ok: true });
    expect(await verifyEmail(token)).toEqual({ ok: true });
    expect((await authenticate(email, "long-enough-password"))?.verified).toBe(true);
  });

  it("refuses a tampered, foreign or expired link", async () => {
    const user = await db().user.findUniqueOrThrow({ where: { email } });
    const good = verificationToken(user.id, user.email);
    expect(await verifyEmail(`${good.slice(0, -2)}xx`)).toEqual({ ok: false, code: "INVALID" });
    expect(await verifyEmail(verificationToken(user.id, "someone-else@flash.test"))).toEqual({ ok: false, code: "INVALID" });
    expect(await verifyEmail(verificationToken(user.id, user.email, Date.now() - 48 * 3600_000))).toEqual({ ok: false, code: "EXPIRED" });
    for (const junk of ["", "x", "a".repeat(500), "../../etc.1.2", "\u0000"]) expect((await verifyEmail(junk)).ok).toBe(false);
  });

  it("with the gate requiring it, hands buy tokens only to sessions with a confirmed email", async () => {
    const web = await startWeb();
    web.gate.requireVerifiedEmail = true;
    const a = await createActivity({ stock: 2 });
    try {
      const user = await db().user.findUniqueOrThrow({ where: { email } });
      const cookie = async (verified: boolean) =>
        `next-auth.session-token=${await encode({ token: { uid: user.id, role: "SHOPPER", email, ...(verified ? { verified } : {}) }, secret: process.env.NEXTAUTH_SECRET! })}`;
      const before = await request(web.url, "GET", `/api/activities/${a.id}/token`, { headers: { cookie: await cookie(false) } });
      expect(before.status).toBe(403);
      expect(before.json().code).toBe("EMAIL_UNVERIFIED");
      const after = await request(web.url, "GET", `/api/activities/${a.id}/token`, { headers: { cookie: await cookie(true) } });
      expect(after.status).toBe(200);
    } finally {
      await web.close();
      await redis().srem(ACTIVE_SET, a.id);
    }
  });
});

describe("sign-up at the gate", () => {
  it("refuses a blocked email domain and a blocked address, and limits sign-ups per address", async () => {
    const { addBlock, removeBlock } = await import("@/lib/gate/blocklist");
    const { gate } = await import("@/lib/gate");
    const admin = (await db().user.create({ data: { email: `su-admin-${Date.now()}@flash.test`, name: "A", passwordHash: "x", role: "ADMIN" } })).id;
    const domain = `scalpers-${Date.now()}.test`;
    const blockedDomain = await addBlock({ kind: "EMAIL_DOMAIN", value: domain, note: "" }, admin);
    const blockedIp = await addBlock({ kind: "IP", value: "192.0.2.66", note: "" }, admin);
    await gate().blocklist.reload();
    try {
      const count = () => db().user.count();
      const before = await count();
      client.ip = "192.0.2.11";
      expect(await signUp(null, form({ name: "S", email: `x@${domain}`, password: "long-enough-password" }))).toMatchObject({
        ok: false,
        fieldErrors: { email: "signUpBlocked" },
      });
      client.ip = "192.0.2.66";
      expect(await signUp(null, form({ name: "S", email: `y-${Date.now()}@flash.test`, password: "long-enough-password" }))).toMatchObject({ ok: false });
      expect(await count()).toBe(before);

      // Three sign-ups an hour from one address (RATE_LIMIT_SIGNUP_IP=3/3600 here), then a wait.
      // An address of its own, so a rerun within the hour starts from zero.
      client.ip = `2001:db8::${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;
      const results = [];
      for (let i = 0; i < 4; i++) {
        results.push(await signUp(null, form({ name: "R", email: `rl-${i}-${Date.now()}@flash.test`, password: "long-enough-password" })));
      }
      expect(results.slice(0, 3).every((r) => r?.ok)).toBe(true);
      expect(results[3]).toMatchObject({ ok: false, fieldErrors: { email: "retryIn" }, retryAfter: expect.any(Number) });
    } finally {
      for (const r of [blockedDomain, blockedIp]) if (r.ok) await removeBlock(r.id, admin);
    }
  });
});
