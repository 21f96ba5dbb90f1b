import { describe, expect, it } from "vitest";
import { httpStatus } from "@/lib/flash/codes";
import { matchFlashRoute } from "@/lib/flash/http";
import { parseTicketId } from "@/lib/flash/store";
import { aheadOf } from "@/lib/flash/wire";
import { buySchema } from "@/lib/flash/schemas";
import { buyToken, verifyBuyToken } from "@/lib/flash/token";

describe("routes of the hot server", () => {
  it("matches only the flash routes with their methods", () => {
    expect(matchFlashRoute("POST", "/api/activities/cabc12345/orders")).toEqual({ route: "buy", activityId: "cabc12345" });
    expect(matchFlashRoute("GET", "/api/activities/cabc12345/orders")).toBeNull();
    expect(matchFlashRoute("GET", "/api/activities/cabc12345/progress")).toEqual({ route: "progress", activityId: "cabc12345" });
    expect(matchFlashRoute("GET", "/api/activities/cabc12345/token")).toEqual({ route: "token", activityId: "cabc12345" });
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
  it("ticket ids carry their activity and an unguessable part", () => {
    expect(parseTicketId("cabcdefgh12345.AAAAAAAAAAAAAAAAAAAAAA")).toEqual({ activityId: "cabcdefgh12345" });
    expect(parseTicketId("cabcdefgh12345.short")).toBeNull();
    expect(parseTicketId("../etc")).toBeNull();
  });
});
