// A hostile client against every door of the web process (front door → hot routes → Next.js):
// each bad request gets a 4xx with a code, never a 5xx, and PostgreSQL and Redis are unchanged.
// Rows marked "finding" reproduce an issue found from outside; each failed before the gate.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// The server action's session and request headers come from Next.js; here they are the ones we choose.
const session = vi.hoisted(() => ({ user: null as null | { id: string; role: string } }));
vi.mock("@/lib/auth/session", () => ({ currentUser: async () => session.user }));
vi.mock("next/headers", () => ({ headers: async () => new Headers({ "x-flash-client-ip": "198.51.100.7" }) }));
const { buy: buyAction } = await import("@/app/[locale]/(shop)/activities/[slug]/actions");
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { ACTIVE_SET, LATENCY_KEY, activityKeys } from "@/lib/flash/store";
import { readDashboard } from "@/lib/admin/dashboard";
import { getActivity } from "@/lib/admin/activities";
import { getProduct } from "@/lib/admin/products";
import { orderFilterSchema } from "@/lib/admin/schemas";
import { createActivity, createUsers, tokenFor, type TestActivity } from "../support/flash";
import { rawExchange, request, sessionCookie, startWeb, type TestWeb } from "../support/web";

let web: TestWeb;
let a: TestActivity;
let soldOut: TestActivity;
let shopper = "";
let other = "";
let cookie = "";
let otherTicket = "";

beforeAll(async () => {
  // Limits high enough for the table (the rate limits have their own suite); tight deadlines.
  const roomy = { user: { points: 1000, seconds: 10 }, ip: { points: 1000, seconds: 10 } };
  web = await startWeb({ requestTimeoutMs: 1_000, sessionCache: { rejected: 500 }, limits: { token: roomy, orders: roomy, tickets: roomy } });
  [shopper, other] = (await createUsers(2)) as [string, string];
  cookie = await sessionCookie(shopper);
  a = await createActivity({ stock: 5, limit: 2 });
  soldOut = await createActivity({ stock: 1, limit: 1 });
  // One real ticket of another user, and a sold-out sale with a buyer list.
  const admitted = await web.core.admit(a.id, other, { quantity: 1, idempotencyKey: "other-user-key", token: tokenFor(a, other) });
  if (!admitted.ok) throw new Error(`setup: ${admitted.code}`);
  otherTicket = admitted.ticketId;
  await web.core.admit(soldOut.id, other, { quantity: 1, idempotencyKey: "sold-out-key", token: tokenFor(soldOut, other) });
});
afterAll(async () => {
  await web.close();
  await redis().srem(ACTIVE_SET, a.id, soldOut.id);
});

/** Everything a request could change, in both stores; rate-limit counters and latency samples excluded. */
async function state() {
  const keys = (await redis().keys("*")).filter((k) => !/^rl[:-]/.test(k) && k !== LATENCY_KEY).sort();
  const dumps = await Promise.all(keys.map(async (k) => [k, (await redis().dumpBuffer(k))?.toString("base64")]));
  const [users, orders, buyers, audits, activities] = await Promise.all([
    db().user.count(),
    db().order.findMany({ orderBy: { id: "asc" } }),
    db().activityBuyer.findMany({ orderBy: [{ activityId: "asc" }, { userId: "asc" }] }),
    db().auditLog.count(),
    db().activity.findMany({ orderBy: { id: "asc" } }),
  ]);
  return { redis: dumps, users, orders, buyers, audits, activities };
}

type Row = [name: string, send: () => Promise<{ status: number; code?: string }>, status: number, code: string];

const json = (body: unknown) => ({ "content-type": "application/json", "content-length": String(Buffer.byteLength(JSON.stringify(body))) });
const buy = (quantity: unknown, extra: Record<string, string> = {}) => async () => {
  const body = { quantity, idempotencyKey: `hostile-${Math.random().toString(36).slice(2)}`, token: tokenFor(a, shopper) };
  const r = await request(web.url, "POST", `/api/activities/${a.id}/orders`, { headers: { ...json(body), cookie, ...extra }, body: JSON.stringify(body) });
  return { status: r.status, code: r.json().code };
};
// Arguments are thunks: the activity and the cookie exist only once beforeAll has run.
const get = (path: () => string, headers: () => Record<string, string> = () => ({})) => async () => {
  const r = await request(web.url, "GET", path(), { headers: headers() });
  return { status: r.status, code: r.body.startsWith("{") ? r.json().code : undefined };
};
const statusOf = (raw: string) => ({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), code: /"code":"([A-Z_]+)"/.exec(raw)?.[1] });

const rows: Row[] = [
  // finding: loose quantity parsing became orders
  ["quantity \"0x2\"", buy("0x2"), 400, "BAD_INPUT"],
  ["quantity true", buy(true), 400, "BAD_INPUT"],
  ["quantity [2]", buy([2]), 400, "BAD_INPUT"],
  ["quantity \" 1 \"", buy(" 1 "), 400, "BAD_INPUT"],
  ["quantity \"1e0\"", buy("1e0"), 400, "BAD_INPUT"],
  ["quantity 0", buy(0), 400, "BAD_INPUT"],
  ["quantity 100", buy(100), 400, "BAD_INPUT"],
  ["quantity 1.5", buy(1.5), 400, "BAD_INPUT"],
  ["quantity -1", buy(-1), 400, "BAD_INPUT"],
  ["quantity null", buy(null), 400, "BAD_INPUT"],
  ["quantity 2^53", buy(2 ** 53), 400, "BAD_INPUT"],
  ["buy body not JSON", async () => {
    const r = await request(web.url, "POST", `/api/activities/${a.id}/orders`, { headers: { cookie, "content-type": "application/json" }, body: "{quantity:" });
    return { status: r.status, code: r.json().code };
  }, 400, "BAD_INPUT"],
  ["buy body of 5 KB", async () => {
    const body = JSON.stringify({ quantity: 1, idempotencyKey: "x".repeat(5000), token: "t" });
    const r = await request(web.url, "POST", `/api/activities/${a.id}/orders`, { headers: { cookie, "content-type": "application/json" }, body });
    return { status: r.status, code: r.json().code };
  }, 413, "BAD_INPUT"],
  ["buy with a forged token", async () => {
    const body = { quantity: 1, idempotencyKey: "forged-token-1", token: "A".repeat(43) };
    const r = await request(web.url, "POST", `/api/activities/${a.id}/orders`, { headers: { ...json(body), cookie }, body: JSON.stringify(body) });
    return { status: r.status, code: r.json().code };
  }, 403, "BAD_TOKEN"],
  ["buy with another user's token", async () => {
    const body = { quantity: 1, idempotencyKey: "foreign-token-1", token: tokenFor(a, other) };
    const r = await request(web.url, "POST", `/api/activities/${a.id}/orders`, { headers: { ...json(body), cookie }, body: JSON.stringify(body) });
    return { status: r.status, code: r.json().code };
  }, 403, "BAD_TOKEN"],
  // finding: a malformed session cookie gave 503 and a log line per request
  ["token with cookie \"%\"", get(() => `/api/activities/${a.id}/token`, () => ({ cookie: "next-auth.session-token=%" })), 401, "UNAUTHENTICATED"],
  ["ticket with cookie \"%\"", get(() => `/api/tickets/${otherTicket}`, () => ({ cookie: "next-auth.session-token=%E0%A4%A" })), 401, "UNAUTHENTICATED"],
  ["buy with cookie \"%\"", buy(1, { cookie: "next-auth.session-token=%" }), 401, "UNAUTHENTICATED"],
  ["token with an 8 KB bearer", get(() => `/api/activities/${a.id}/token`, () => ({ authorization: `Bearer ${"a".repeat(8192)}` })), 401, "UNAUTHENTICATED"],
  ["token with a JWE-shaped forgery", get(() => `/api/activities/${a.id}/token`, () => ({ authorization: "Bearer eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC" })), 401, "UNAUTHENTICATED"],
  ["another user's ticket", get(() => `/api/tickets/${otherTicket}`, () => ({ cookie: "" })), 401, "UNAUTHENTICATED"],
  ["another user's ticket, signed in", get(() => `/api/tickets/${otherTicket}`, () => ({ cookie })), 404, "NOT_FOUND"],
  ["malformed ticket id", get(() => `/api/tickets/${"x".repeat(300)}`, () => ({ cookie })), 404, "NOT_FOUND"],
  ["malformed activity id (upper case)", get(() => `/api/activities/ABCDEFGHIJ/token`, () => ({ cookie })), 404, "NOT_FOUND"],
  ["activity id of 41 characters", get(() => `/api/activities/${"a".repeat(41)}/progress`), 404, "NOT_FOUND"],
  // finding: TRACE and a broken escape reached Next.js and gave 500
  ["TRACE /api/time", async () => {
    const r = await request(web.url, "TRACE", "/api/time");
    return { status: r.status, code: r.json().code };
  }, 405, "METHOD_NOT_ALLOWED"],
  ["PROPFIND /", async () => {
    const r = await request(web.url, "PROPFIND", "/");
    return { status: r.status, code: r.json().code };
  }, 405, "METHOD_NOT_ALLOWED"],
  ["GET /activities/%E0%A4%A", get(() => "/activities/%E0%A4%A"), 400, "BAD_INPUT"],
  ["GET /admin/activities/%ZZ", get(() => "/admin/activities/%ZZ"), 400, "BAD_INPUT"],
  ["absolute-form request target", async () => statusOf(await rawExchange(web.port, "GET http://evil.example/api/time HTTP/1.1\r\nHost: x\r\n\r\n")), 400, "BAD_INPUT"],
  // finding: the CSV export cut the connection on a NUL in the email filter
  ["CSV export with a NUL in the filter", get(() => "/api/admin/orders/export?email=a%00b"), 400, "BAD_INPUT"],
  // finding: a 100 MB body to the credentials sign-in was read in full
  ["100 MB body to the credentials sign-in", async () =>
    statusOf(await rawExchange(web.port, "POST /api/auth/callback/credentials HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 104857600\r\n\r\nemail=a")),
    413, "TOO_LARGE"],
  ["2 MB body to a page", async () =>
    statusOf(await rawExchange(web.port, "POST /sign-up HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n")), 413, "TOO_LARGE"],
  ["chunked body of unknown size", async () =>
    statusOf(await rawExchange(web.port, "POST /sign-up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")), 411, "LENGTH_REQUIRED"],
  ["chunked buy body past the hot route's 4 KB", async () => {
    const chunk = `1000\r\n${" ".repeat(4096)}\r\n`;
    return statusOf(await rawExchange(web.port, `POST /api/activities/${a.id}/orders HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(3)}`));
  }, 413, "BAD_INPUT"],
  ["non-numeric Content-Length", async () =>
    statusOf(await rawExchange(web.port, `POST /api/activities/${a.id}/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n`)), 400, ""],
  // finding: a body that stalls after 12 of 100 bytes was never timed out
  ["body stalled after 12 of 100 bytes", async () =>
    statusOf(await rawExchange(web.port, `POST /api/activities/${a.id}/orders HTTP/1.1\r\nHost: x\r\n${cookie ? `Cookie: ${cookie}\r\n` : ""}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"quantity":`, /\r\n\r\n/)),
    408, ""],
];

describe("hostile input: 4xx with a code, no 5xx, nothing changed", () => {
  it("has a positive control: a well-formed request reaches admission and changes state", async () => {
    const body = { quantity: 1, idempotencyKey: "positive-control", token: tokenFor(soldOut, shopper) };
    const r = await request(web.url, "POST", `/api/activities/${soldOut.id}/orders`, { headers: { ...json(body), cookie }, body: JSON.stringify(body) });
    expect(r.json().code).toBe("SOLD_OUT"); // admission ran (and refused): the door let it through
    const t = await request(web.url, "GET", `/api/activities/${a.id}/token`, { headers: { cookie } });
    expect(t.status).toBe(200);
  });

  it.each(rows)("%s → %s %s", async (_name, send, status, code) => {
    const before = await state();
    const r = await send();
    expect(r.status).toBe(status);
    if (code) expect(r.code).toBe(code);
    expect(await state()).toEqual(before);
  });

  it("never lets a refused request through to Next.js", () => {
    expect(web.nextCalls).toEqual([]);
  });
});

// The pre-sale route (docs/presale.md) is a Next.js route handler: called directly, with the same checks.
describe("hostile input to the pre-sale route", () => {
  const call = async (method: "GET" | "POST", id: string, headers: () => Record<string, string>) => {
    const route = await import("@/app/api/activities/[id]/deposit/route");
    const res = await route[method](new Request(`http://localhost/api/activities/${encodeURIComponent(id)}/deposit`, { method, headers: headers() }), {
      params: Promise.resolve({ id }),
    });
    return { status: res.status, code: ((await res.json()) as { code?: string }).code };
  };
  const presaleRows: [string, () => Promise<{ status: number; code?: string }>, number, string][] = [
    ["deposit signed out", () => call("POST", a.id, () => ({})), 401, "UNAUTHENTICATED"],
    ["deposit with cookie \"%\"", () => call("POST", a.id, () => ({ cookie: "next-auth.session-token=%" })), 401, "UNAUTHENTICATED"],
    ["deposit with an 8 KB bearer", () => call("POST", a.id, () => ({ authorization: `Bearer ${"a".repeat(8192)}` })), 401, "UNAUTHENTICATED"],
    ["deposit on a malformed id", () => call("POST", "ABC/../x", () => ({ cookie })), 404, "NOT_FOUND"],
    ["deposit on an id of 5,000 characters", () => call("POST", "a".repeat(5000), () => ({ cookie })), 404, "NOT_FOUND"],
    ["deposit on an unknown sale", () => call("POST", "nosuchsale00001", () => ({ cookie })), 404, "NOT_FOUND"],
    ["deposit on a sale without pre-sale", () => call("POST", a.id, () => ({ cookie })), 404, "NO_PRESALE"],
    ["pre-sale state of a sale without pre-sale", () => call("GET", a.id, () => ({ cookie })), 404, "NO_PRESALE"],
    ["pre-sale state with a NUL in the id", () => call("GET", "bad\u0000id", () => ({ cookie })), 404, "NOT_FOUND"],
  ];
  it.each(presaleRows)("%s → %s %s", async (_name, send, status, code) => {
    const before = await state();
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.code).toBe(code);
    expect(await state()).toEqual(before);
  });
});

describe("hostile input: resources stay bounded", () => {
  // finding: every distinct forged session token stayed in the cache (493 → 789 MB for 20,000 of 8 KB)
  it("2,000 distinct forged session tokens leave the session caches bounded", async () => {
    for (let i = 0; i < 2000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          web.sessions.read(undefined, `Bearer eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..${"A".repeat(16)}.${(i + j).toString(36)}${"B".repeat(40)}.CCCCCCCCCCCCCCCCCCCCCC`),
        ),
      );
      await Promise.all(Array.from({ length: 100 }, (_, j) => web.sessions.read(`next-auth.session-token=${"x".repeat(8192)}${i + j}`)));
    }
    const sizes = web.sessions.cacheSizes();
    expect(sizes.accepted).toBeLessThanOrEqual(1);
    expect(sizes.rejected).toBeLessThanOrEqual(500);
  });

  // finding: a forged buy token made every request re-read the sale's state (and the buyer list once sold out)
  it("200 forged buy tokens on a sold-out sale cost Redis at most a few reads", async () => {
    await web.core.states.get(soldOut.id); // warm, as under a crowd
    const stats = async () => {
      const info = await redis().info("commandstats");
      const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      return { hgetall: calls("hgetall"), hkeys: calls("hkeys") };
    };
    const before = await stats();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        web.core.admit(soldOut.id, other, { quantity: 1, idempotencyKey: `forged-${i}-xxxx`, token: "F".repeat(43) }),
      ),
    );
    const after = await stats();
    expect(new Set(results.map((r) => (r.ok ? "OK" : r.code)))).toEqual(new Set(["BAD_TOKEN"]));
    expect(after.hgetall - before.hgetall).toBeLessThanOrEqual(2);
    expect(after.hkeys - before.hkeys).toBeLessThanOrEqual(1);
  });

  it("malformed admin ids are not found rather than errors", async () => {
    for (const id of ["bad\u0000id", "%E0%A4%A", "x".repeat(5000), "../../etc"]) {
      expect(await readDashboard(id)).toBeNull();
      expect(await getActivity(id)).toBeNull();
      expect(await getProduct(id)).toBeNull();
    }
    expect(orderFilterSchema.parse({ email: "a\u0000b" }).email).toBeUndefined();
    await expect(db().activity.count({ where: { id: activityKeys(a.id).meta } })).resolves.toBe(0);
  });
});

describe("security headers on every response", () => {
  it.each([
    ["a page handed to Next.js", "GET", "/"],
    ["a front-door refusal", "TRACE", "/"],
  ])("%s: the page policy", async (_name, method, path) => {
    const r = await request(web.url, method, path);
    const csp = String(r.headers["content-security-policy"]);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("object-src 'none'");
    // finding: no CSP at all; then one with script-src 'unsafe-inline'
    expect(csp).toMatch(/script-src 'self'(;| )/);
    expect(csp).not.toContain("'unsafe-inline'; style-src");
    expect(r.headers["x-frame-options"]).toBe("DENY");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    expect(r.headers["strict-transport-security"]).toBeUndefined(); // plain HTTP here
  });

  it.each([
    ["a hot route", "GET", "/api/time"],
    ["a hot-route refusal", "GET", "/api/activities/nope/token"],
  ])("%s: the JSON answer's policy forbids everything", async (_name, method, path) => {
    const r = await request(web.url, method, path);
    expect(r.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(r.headers["x-frame-options"]).toBe("DENY");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    expect(r.headers["strict-transport-security"]).toBeUndefined();
  });

  it("adds HSTS when the site is served over HTTPS and lets the hCaptcha widget in when configured", async () => {
    const tls = await startWeb({ door: { https: true, captchaOrigins: ["https://hcaptcha.com", "https://*.hcaptcha.com"] } });
    try {
      for (const path of ["/api/time", "/"]) {
        const r = await request(tls.url, "GET", path);
        expect(r.headers["strict-transport-security"]).toMatch(/^max-age=\d{7,}/);
      }
      const page = await request(tls.url, "GET", "/");
      expect(String(page.headers["content-security-policy"])).toMatch(/script-src 'self' https:\/\/hcaptcha\.com https:\/\/\*\.hcaptcha\.com;/);
      expect(String(page.headers["content-security-policy"])).toMatch(/frame-src https:\/\/hcaptcha\.com/);
    } finally {
      await tls.close();
    }
  });
});

describe("hostile input to next-auth's route", () => {
  // finding: a callback URL next-auth cannot parse gave 500
  it.each([
    ["query", "http://localhost:3000.evil.example/", {}],
    ["cookie", null, { cookie: "next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000.evil.example%2F" }],
    ["cookie with a broken escape", null, { cookie: "next-auth.callback-url=%E0%A4%A" }],
  ])("an unparsable callback URL in the %s → 400 BAD_INPUT", async (_where, query, headers) => {
    const { GET } = await import("@/app/api/auth/[...nextauth]/route");
    const url = `http://localhost:3000/api/auth/signin${query ? `?callbackUrl=${encodeURIComponent(query)}` : ""}`;
    const res = await GET(new Request(url, { headers }), { params: Promise.resolve({ nextauth: ["signin"] }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: "BAD_INPUT" });
  });
});

describe("hostile input to the buy form's server action", () => {
  const actionForm = (fields: Record<string, string | Blob>) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.append(k, v);
    return f;
  };
  const redirectOf = async (p: Promise<unknown>): Promise<string> => {
    const e = (await p.then(() => expect.fail("the action must redirect"), (err: unknown) => err)) as { digest?: string };
    const url = e.digest?.split(";")[2];
    if (!url) throw e;
    return url;
  };

  it.each([
    ["quantity 0x2", { quantity: "0x2" }],
    ["quantity \" 1 \"", { quantity: " 1 " }],
    ["quantity 1e0", { quantity: "1e0" }],
    ["quantity 100", { quantity: "100" }],
    ["quantity empty", { quantity: "" }],
    ["a malformed activity id", { activityId: "../../x" }],
    ["a file instead of a field", { quantity: new Blob(["1"]) }],
    ["an oversized idempotency key", { idempotencyKey: "k".repeat(5000) }],
  ])("%s → refused BAD_INPUT, nothing changed", async (_name, bad) => {
    session.user = { id: shopper, role: "SHOPPER" };
    const before = await state();
    const url = await redirectOf(buyAction(actionForm({ activityId: a.id, slug: "a-sale", quantity: "1", ...bad })));
    expect(url).toBe("/activities/a-sale/result?refused=BAD_INPUT");
    expect(await state()).toEqual(before);
  });
});

describe("hostile input to channel allocation: the partner route and the admin actions (docs/channels.md)", () => {
  let key = "";
  let revoked = "";
  let partnerPost: (req: Request, ctx: { params: Promise<{ id: string }> }) => Promise<Response>;
  let actions: typeof import("@/app/[locale]/(admin)/admin/activities/channel-actions") & typeof import("@/app/[locale]/(admin)/admin/partners/actions");
  beforeAll(async () => {
    const { createApiKey, revokeApiKey } = await import("@/lib/channels");
    ({ POST: partnerPost } = await import("@/app/api/partner/activities/[id]/orders/route"));
    actions = { ...(await import("@/app/[locale]/(admin)/admin/activities/channel-actions")), ...(await import("@/app/[locale]/(admin)/admin/partners/actions")) };
    key = (await createApiKey(db(), "partner-h", "hostile")).key;
    const old = await createApiKey(db(), "partner-h", "revoked");
    await revokeApiKey(db(), old.id);
    revoked = old.key;
  });
  afterAll(async () => {
    const { flash } = await import("@/lib/flash/instance");
    await flash().close();
  });

  const partner = (headers: () => Record<string, string>, body: () => string = () => JSON.stringify({ quantity: 1, idempotencyKey: "partner-hostile", token: tokenFor(a, shopper) })) => async () => {
    const req = new Request(`http://shop.test/api/partner/activities/${a.id}/orders`, { method: "POST", headers: { "content-type": "application/json", ...headers() }, body: body() });
    const res = await partnerPost(req, { params: Promise.resolve({ id: a.id }) });
    return { status: res.status, code: ((await res.json()) as { code?: string }).code };
  };
  const bearer = () => ({ authorization: `Bearer ${cookie.split("=").slice(1).join("=")}` });
  const partnerRows: Row[] = [
    ["partner buy without a key", partner(() => bearer()), 401, "BAD_API_KEY"],
    ["partner buy with a made-up key", partner(() => ({ ...bearer(), "x-api-key": `fsk_${"B".repeat(43)}` })), 401, "BAD_API_KEY"],
    ["partner buy with a 5 KB key", partner(() => ({ ...bearer(), "x-api-key": `fsk_${"C".repeat(5000)}` })), 401, "BAD_API_KEY"],
    ["partner buy with a revoked key", partner(() => ({ ...bearer(), "x-api-key": revoked })), 401, "BAD_API_KEY"],
    ["partner buy with X-Channel but no key", partner(() => ({ ...bearer(), "x-channel": "partner-h" })), 401, "BAD_API_KEY"],
    ["partner buy, valid key, no shopper session", partner(() => ({ "x-api-key": key })), 401, "UNAUTHENTICATED"],
    ["partner buy, valid key, body not JSON", partner(() => ({ ...bearer(), "x-api-key": key }), () => "{quantity:"), 400, "BAD_INPUT"],
    ["partner buy, valid key, quantity 0", partner(() => ({ ...bearer(), "x-api-key": key }), () => JSON.stringify({ quantity: 0, token: tokenFor(a, shopper) })), 400, "BAD_INPUT"],
  ];
  // The same route on the hot server (scripts/server.ts serves it there).
  const hotPartner = (headers: () => Record<string, string>, body: () => string = () => JSON.stringify({ quantity: 1, idempotencyKey: "partner-hot-hostile", token: tokenFor(a, shopper) })) => async () => {
    const b = body();
    const r = await request(web.url, "POST", `/api/partner/activities/${a.id}/orders`, { headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(b)), ...headers() }, body: b });
    return { status: r.status, code: r.json().code as string | undefined };
  };
  partnerRows.push(
    ["hot server: partner buy without a key", hotPartner(() => bearer()), 401, "BAD_API_KEY"],
    ["hot server: partner buy with a revoked key", hotPartner(() => ({ ...bearer(), "x-api-key": revoked })), 401, "BAD_API_KEY"],
    ["hot server: partner buy, valid key, no session", hotPartner(() => ({ "x-api-key": key })), 401, "UNAUTHENTICATED"],
    ["hot server: partner buy, valid key, quantity 0", hotPartner(() => ({ ...bearer(), "x-api-key": key }), () => JSON.stringify({ quantity: 0, token: tokenFor(a, shopper) })), 400, "BAD_INPUT"],
  );
  it.each(partnerRows)("%s → %s %s", async (_name, send, status, code) => {
    const before = await state();
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.code).toBe(code);
    expect(await state()).toEqual(before);
  });

  const row = (channel: string, share: unknown) => ({ channel, share, volume: 0, conversion: 0, aov: 0 });
  const actionRows: [string, () => Promise<{ ok: boolean; code?: string }>][] = [
    ["split rows not JSON", () => actions.saveChannelsAction({ activityId: a.id, rows: "[{", borrowAfterSec: "" })],
    ["split rows not a list", () => actions.saveChannelsAction({ activityId: a.id, rows: "{}", borrowAfterSec: "" })],
    ["split of 33 channels", () => actions.saveChannelsAction({ activityId: a.id, rows: JSON.stringify(Array.from({ length: 33 }, (_, i) => row(`c${i}`, 0))), borrowAfterSec: "" })],
    ["split with an upper-case channel", () => actions.saveChannelsAction({ activityId: a.id, rows: JSON.stringify([row("WEB", 5)]), borrowAfterSec: "" })],
    ["split with a share of -1", () => actions.saveChannelsAction({ activityId: a.id, rows: JSON.stringify([row("web", -1), row("app", 6)]), borrowAfterSec: "" })],
    ["split with a share of 2.5", () => actions.saveChannelsAction({ activityId: a.id, rows: JSON.stringify([row("web", 2.5), row("app", 2.5)]), borrowAfterSec: "" })],
    ["split naming a channel twice", () => actions.saveChannelsAction({ activityId: a.id, rows: JSON.stringify([row("web", 2), row("web", 3)]), borrowAfterSec: "" })],
    ["split not summing to the stock", () => actions.saveChannelsAction({ activityId: a.id, rows: JSON.stringify([row("web", 2), row("app", 2)]), borrowAfterSec: "" })],
    ["split with a negative borrow time", () => actions.saveChannelsAction({ activityId: a.id, rows: JSON.stringify([row("web", 5)]), borrowAfterSec: "-5" })],
    ["split of a malformed sale id", () => actions.saveChannelsAction({ activityId: "../x", rows: "[]", borrowAfterSec: "" })],
    ["rebalance of 0 units", () => actions.rebalanceAction({ activityId: a.id, from: "web", to: "app", units: "0" })],
    ["rebalance of 1.5 units", () => actions.rebalanceAction({ activityId: a.id, from: "web", to: "app", units: "1.5" })],
    ["rebalance to the same channel", () => actions.rebalanceAction({ activityId: a.id, from: "web", to: "web", units: "1" })],
    ["rebalance on a sale without channels", () => actions.rebalanceAction({ activityId: a.id, from: "web", to: "app", units: "1" })],
    ["API key for the web channel", () => actions.createApiKeyAction({ channel: "web", label: "x" })],
    ["API key with a channel of spaces", () => actions.createApiKeyAction({ channel: "a b", label: "x" })],
    ["API key without a label", () => actions.createApiKeyAction({ channel: "partner-x", label: "" })],
    ["revoke a malformed key id", () => actions.revokeApiKeyAction({ id: "../../x" })],
  ];
  it.each(actionRows)("admin: %s → BAD_INPUT, nothing changed", async (_name, send) => {
    const { createAdmin } = await import("../support/admin-fixtures");
    session.user ??= { id: "", role: "SHOPPER" };
    if (session.user.role !== "ADMIN") session.user = await createAdmin();
    const before = await state();
    const r = await send();
    expect(r).toMatchObject({ ok: false, code: "BAD_INPUT" });
    expect(await state()).toEqual(before);
  });
});
