import { describe, expect, it } from "vitest";
import { safeRedirectPath, safeRedirectUrl } from "@/lib/http/safe-redirect";

const base = "http://localhost:3000";

describe("safe redirects (sign-in's callbackUrl and next-auth's redirect callback)", () => {
  it.each([
    // finding: these left the site after sign-in
    ["/\\evil.example/", "/"],
    ["/\t/evil.example/", "/"],
    ["/\\/evil.example", "/"],
    ["//evil.example/", "/"],
    ["/%09/evil.example", "/%09/evil.example"],
    ["https://evil.example/", "/"],
    ["javascript:alert(1)", "/"],
    ["", "/"],
    [null, "/"],
    ["/activities/sale-1?x=1#buy", "/activities/sale-1?x=1#buy"],
    ["/orders", "/orders"],
  ])("safeRedirectPath(%j) → %j", (value, expected) => {
    expect(safeRedirectPath(value)).toBe(expected);
  });

  it.each([
    // finding: a look-alike host name
    ["http://localhost:3000.evil.example/", base],
    ["http://localhost:3000@evil.example/", base],
    ["https://localhost:3000/", base],
    ["http://localhost:3000/orders", "http://localhost:3000/orders"],
    ["/orders?x=1", "http://localhost:3000/orders?x=1"],
    ["/\\evil.example", base],
    ["http://[::1", base],
  ])("safeRedirectUrl(%j) → %j", (value, expected) => {
    expect(safeRedirectUrl(value, base)).toBe(expected);
  });
});
