import { describe, expect, it } from "vitest";
import { httpStatus } from "@/lib/flash/codes";
import { channelOf, isSharedReply, matchFlashRoute, rateLimited, readForm, readJson, refusal, type RequestBody } from "@/lib/flash/http";
import { newTicketId, parseTicketId } from "@/lib/flash/store";
import { aheadOf } from "@/lib/flash/wire";
import { buyFormRequest, buyRequest, buySchema } from "@/lib/flash/schemas";
import { buyToken, verifyBuyToken } from "@/lib/flash/token";

describe("routes of the hot server", () => {
  it("matches only the flash routes with their methods", () => {
    expect(matchFlashRoute("POST", "/api/activities/cabc12345/orders")).toEqual({ route: "buy", activityId: "cabc12345" });
    expect(matchFlashRoute("GET", "/api/activities/cabc12345/orders")).toBeNull();
    expect(matchFlashRoute("GET", "/api/activities/cabc12345/progress")).toEqual({ route: "progress", activityId: "cabc12345" });
    expect(matchFlashRoute("GET", "/api/activities/cabc12345/token")).toEqual({ route: "token", activityId: "cabc12345" });
    expect(matchFlashRoute("GET", "/api/activities/cabc12345/me")).toEqual({ route: "me", activityId: "cabc12345" });
    expect(matchFlashRoute("POST", "/api/activities/cabc12345/me")).toBeNull();
    expect(matchFlashRoute("GET", "/api/tickets/x.y")).toEqual({ route: "ticket", ticketId: "x.y" });
    expect(matchFlashRoute("GET", "/api/time")).toEqual({ route: "time" });
    expect(matchFlashRoute("GET", "/api/auth/session")).toBeNull();
    expect(matchFlashRoute("GET", "/activities/x")).toBeNull();
  });

  it("maps refusal codes to their HTTP status", () => {
    expect(httpStatus("UNAUTHENTICATED")).toBe(401);
    expect(httpStatus("RATE_LIMITED")).toBe(429);
    expect(httpStatus("SOLD_OUT")).toBe(410);
  });
});

describe("the channel a shop request buys through (docs/channels.md)", () => {
  it("is app with a bearer token, web otherwise; the client cannot name another", () => {
    expect(channelOf("Bearer abc")).toBe("app");
    expect(channelOf(undefined)).toBe("web");
    expect(channelOf(null)).toBe("web");
    expect(channelOf("Basic abc")).toBe("web");
    expect(httpStatus("BAD_API_KEY")).toBe(401);
  });
});

describe("refusals", () => {
  it("are made once per kind and shared (frozen), so their bytes can be kept", () => {
    const soldOut = refusal("SOLD_OUT");
    expect(soldOut).toEqual({ status: 410, body: { code: "SOLD_OUT" }, headers: { "cache-control": "private, no-store" } });
    expect(refusal("SOLD_OUT")).toBe(soldOut);
    expect(isSharedReply(soldOut) && Object.isFrozen(soldOut) && Object.isFrozen(soldOut.body)).toBe(true);
    const startAt = "2026-12-01T12:00:00.000Z";
    expect(refusal("NOT_STARTED", { startAt })).toBe(refusal("NOT_STARTED", { startAt }));
    expect(refusal("NOT_STARTED", { startAt }).body).toEqual({ code: "NOT_STARTED", startAt });
    expect(rateLimited(3)).toBe(rateLimited(3));
    expect(rateLimited(3).headers).toMatchObject({ "retry-after": "3" });
    expect(isSharedReply({ status: 200, body: {} })).toBe(false);
  });
});

describe("buy input", () => {
  it("accepts a well-formed request and coerces form values", () => {
    const r = buySchema.safeParse({ quantity: "2", idempotencyKey: "abcdefgh", token: "t".repeat(43) });
    expect(r.success && r.data.quantity).toBe(2);
  });
  it.each([
    [{ quantity: 0, idempotencyKey: "abcdefgh", token: "t".repeat(43) }],
    [{ quantity: 1.5, idempotencyKey: "abcdefgh", token: "t".repeat(43) }],
    [{ quantity: 1, idempotencyKey: "short", token: "t".repeat(43) }],
    [{ quantity: 1, idempotencyKey: "has spaces in it", token: "t".repeat(43) }],
    [{ quantity: 1, idempotencyKey: "abcdefgh", token: "bad token!" }],
    [{ quantity: 1, idempotencyKey: "abcdefgh" }],
  ])("refuses %j", (input) => {
    expect(buySchema.safeParse(input).success).toBe(false);
  });
});

describe("one request spec, read the same by every door", () => {
  const valid = { quantity: 1, idempotencyKey: "abcdefgh", token: "t".repeat(43) };
  /** A body as a stream that counts how many chunks were pulled from it. */
  function streamed(text: string, chunkSize: number, contentLength: string | null = null) {
    const bytes = Buffer.from(text);
    const pulled = { chunks: 0 };
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += chunkSize) {
        pulled.chunks++;
        yield bytes.subarray(i, i + chunkSize);
      }
    }
    return { body: { contentLength, chunks: chunks() } satisfies RequestBody, pulled };
  }

  it("parses a JSON body within the limit", async () => {
    const { body } = streamed(JSON.stringify(valid), 7);
    expect(await readJson(buyRequest, body)).toEqual({ ok: true, data: valid });
  });

  it("refuses a declared Content-Length past the limit before reading a byte", async () => {
    const { body, pulled } = streamed(JSON.stringify(valid), 100, String(buyRequest.maxBytes + 1));
    expect(await readJson(buyRequest, body)).toMatchObject({ ok: false, tooLarge: true });
    expect(pulled.chunks).toBe(0);
  });

  it("stops reading an undeclared stream as soon as it passes the limit", async () => {
    const { body, pulled } = streamed("x".repeat(buyRequest.maxBytes * 10), 1024);
    expect(await readJson(buyRequest, body)).toMatchObject({ ok: false, tooLarge: true });
    expect(pulled.chunks).toBe(buyRequest.maxBytes / 1024 + 1);
  });

  it("names the bad fields, and refuses a body that is not JSON", async () => {
    expect(await readJson(buyRequest, streamed(JSON.stringify({ ...valid, quantity: 0 }), 64).body)).toEqual({
      ok: false,
      tooLarge: false,
      fields: ["quantity"],
    });
    expect(await readJson(buyRequest, streamed("{not json", 64).body)).toEqual({ ok: false, tooLarge: false, fields: [] });
  });

  it("reads a form with the same limit, coercing its strings", () => {
    const form = new FormData();
    form.append("activityId", "cabcdefgh12345");
    form.append("slug", "a-sale");
    form.append("quantity", "2");
    expect(readForm(buyFormRequest, form)).toEqual({ ok: true, data: { activityId: "cabcdefgh12345", slug: "a-sale", quantity: 2 } });
    form.append("pad", "p".repeat(buyFormRequest.maxBytes));
    expect(readForm(buyFormRequest, form)).toMatchObject({ ok: false, tooLarge: true });
    const withFile = new FormData();
    withFile.append("quantity", new Blob(["1"]), "q.txt");
    expect(readForm(buyFormRequest, withFile)).toEqual({ ok: false, tooLarge: false, fields: ["quantity"] });
  });
});

describe("buy tokens", () => {
  const secret = "s".repeat(40);
  it("verify for the same user, activity and start only", () => {
    const t = buyToken(secret, "act1", 1000, "u1");
    expect(verifyBuyToken(secret, "act1", 1000, "u1", t)).toBe(true);
    expect(verifyBuyToken(secret, "act1", 1000, "u2", t)).toBe(false);
    expect(verifyBuyToken(secret, "act2", 1000, "u1", t)).toBe(false);
    expect(verifyBuyToken(secret, "act1", 2000, "u1", t)).toBe(false);
    expect(verifyBuyToken("x".repeat(40), "act1", 1000, "u1", t)).toBe(false);
    expect(verifyBuyToken(secret, "act1", 1000, "u1", t.slice(1))).toBe(false);
  });
});

describe("queue position", () => {
  it("counts tickets admitted earlier and not yet answered, never below zero", () => {
    expect(aheadOf(10, 0)).toBe(9);
    expect(aheadOf(10, 9)).toBe(0);
    expect(aheadOf(10, 50)).toBe(0);
  });
  it("ticket ids carry their activity, the Redis generation that admitted them and an unguessable part", () => {
    expect(parseTicketId("cabcdefgh12345.AAAAAAAAAAAAAAAAAAAAAA")).toEqual({ activityId: "cabcdefgh12345", epoch: 0 });
    const id = newTicketId("cabcdefgh12345", 70_000);
    expect(parseTicketId(id)).toEqual({ activityId: "cabcdefgh12345", epoch: 70_000 });
    expect(newTicketId("cabcdefgh12345", 3)).not.toBe(newTicketId("cabcdefgh12345", 3));
    expect(parseTicketId("cabcdefgh12345.short")).toBeNull();
    expect(parseTicketId("../etc")).toBeNull();
  });
});
