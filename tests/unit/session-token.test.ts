import { encode } from "next-auth/jwt";
import { describe, expect, it } from "vitest";
import { createSessionReader } from "@/lib/auth/session-token";

const secret = "unit-test-secret-0123456789abcdefghij";

describe("session reader of the hot paths", () => {
  it("reads the user from a next-auth session cookie and from a bearer token", async () => {
    const token = await encode({ token: { uid: "user-1", role: "SHOPPER", sub: "user-1" }, secret });
    const reader = createSessionReader(secret);
    expect(await reader.read(`a=b; next-auth.session-token=${token}; c=d`)).toEqual({ userId: "user-1", role: "SHOPPER" });
    expect(await reader.read(`__Secure-next-auth.session-token=${token}`)).toEqual({ userId: "user-1", role: "SHOPPER" });
    expect(await reader.read(undefined, `Bearer ${token}`)).toEqual({ userId: "user-1", role: "SHOPPER" });
  });

  it("refuses a token made with another secret, an expired one, garbage and look-alike cookie names", async () => {
    const reader = createSessionReader(secret);
    const other = await encode({ token: { uid: "u", role: "ADMIN" }, secret: "another-secret-0123456789abcdefghijk" });
    const expired = await encode({ token: { uid: "u", role: "ADMIN" }, secret, maxAge: -3600 });
    const good = await encode({ token: { uid: "u", role: "ADMIN" }, secret });
    expect(await reader.read(`next-auth.session-token=${other}`)).toBeNull();
    expect(await reader.read(`next-auth.session-token=${expired}`)).toBeNull();
    expect(await reader.read("next-auth.session-token=garbage")).toBeNull();
    expect(await reader.read(`xnext-auth.session-token=${good}`)).toBeNull();
    expect(await reader.read(undefined, "Basic abc")).toBeNull();
  });

  it("answers a cached session without waiting (peek), and forgets it when the token itself expires", async () => {
    const reader = createSessionReader(secret);
    // Expired 12 s ago: still within the 15 s clock tolerance, so accepted for about 3 s more, not 60.
    const ending = await encode({ token: { uid: "u-end", role: "SHOPPER" }, secret, maxAge: -12 });
    const cookie = `next-auth.session-token=${ending}`;
    expect(reader.peek(cookie)).toBeUndefined(); // not decrypted yet
    expect(reader.peek("a=b")).toBeNull(); // no session token at all
    expect(reader.peek(undefined)).toBeNull();
    // A credential that cannot be a session (too long, not Bearer, percent-encoded) was still sent: read refuses it.
    for (const [c, auth] of [[undefined, `Bearer ${"x".repeat(8192)}`], [undefined, "Basic abc"], ["next-auth.session-token=%", undefined], [`next-auth.session-token=${"y".repeat(5000)}`, undefined]] as const) {
      expect(reader.peek(c, auth)).toBeUndefined();
      expect(await reader.read(c, auth)).toBeNull();
    }
    expect(await reader.read(cookie)).toEqual({ userId: "u-end", role: "SHOPPER" });
    expect(reader.peek(cookie)).toEqual({ userId: "u-end", role: "SHOPPER" });
    await new Promise((r) => setTimeout(r, 3_500));
    expect(reader.peek(cookie)).toBeUndefined();
    expect(await reader.read(cookie)).toBeNull();
  });
});
