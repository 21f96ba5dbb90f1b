import "server-only";
import type { SessionClaims } from "@/lib/auth/session-token";
import { httpStatus, type RefusalCode } from "@/lib/flash/codes";
import type { FlashCore } from "@/lib/flash/core";
import { buyRequest, isActivityId, type RequestSpec } from "@/lib/flash/schemas";
import type { BuyAccepted, ShopperState, TokenGranted } from "@/lib/flash/wire";
import type { Gate } from "@/lib/gate";
import type { HotRoute } from "@/lib/rate-limit";
import { APP_CHANNEL, WEB_CHANNEL } from "@/lib/flash/store/layout";
import type { z } from "zod";

/**
 * The HTTP doors of the flash-sale core, free of any framework: the hot server (scripts/server.ts)
 * and the Next.js route handlers both call these, so the two stay the same API; the server actions
 * read their forms through readForm, against the same request specs (lib/flash/schemas.ts).
 */
export interface HttpReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const NO_STORE = { "cache-control": "private, no-store" };
// Shared and identical for every shopper: a CDN may serve it to all of them for a second.
const SHARED_1S = { "cache-control": "public, max-age=1, s-maxage=1, stale-while-revalidate=1" };

/** Seconds a client waits before retrying an UNAVAILABLE answer (a rebuild of the sale's Redis state takes about this long). */
export const UNAVAILABLE_RETRY_S = 1;

// Refusals are few and repeat (one per code, per sale start, per retry-after second…): each is made
// once and shared, so the hot server can keep its bytes (lib/flash/hot-server.ts) and a crowd of
// identical refusals allocates nothing. Bounded: past MAX_SHARED kinds, new ones are made per request.
const MAX_SHARED = 1024;
const shared = new Map<string, HttpReply>();
const sharedSet = new WeakSet<HttpReply>();

function sharedReply(key: string, make: () => HttpReply): HttpReply {
  let reply = shared.get(key);
  if (reply) return reply;
  reply = make();
  if (shared.size < MAX_SHARED) {
    Object.freeze(reply.body);
    Object.freeze(reply.headers);
    shared.set(key, Object.freeze(reply));
    sharedSet.add(reply);
  }
  return reply;
}

/** A reply made once and shared by every request that gets it (never mutate it): its bytes may be kept. */
export function isSharedReply(reply: HttpReply): boolean {
  return sharedSet.has(reply);
}

export function refusal(code: RefusalCode, extra?: Record<string, unknown>): HttpReply {
  const key = extra ? `${code}${JSON.stringify(extra)}` : code;
  const headers = code === "UNAVAILABLE" ? { ...NO_STORE, "retry-after": String(UNAVAILABLE_RETRY_S) } : NO_STORE;
  return sharedReply(key, () => ({ status: httpStatus(code), body: { code, ...extra }, headers }));
}

/** A request body as both doors have it: node:http's IncomingMessage and the web Request are both byte streams. */
export interface RequestBody {
  contentLength: string | null | undefined;
  chunks: AsyncIterable<Uint8Array> | null;
  /**
   * The same bytes read directly, where the door can do it cheaper than through the iterator (the hot
   * server, from node:http's events): the body, or null past `maxBytes`. readBytes prefers it.
   */
  read?: (maxBytes: number) => Promise<Buffer | null>;
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; tooLarge: boolean; fields: string[] };

/** The answer to input that failed its request spec: 413 past the size limit, else 400 naming the fields. */
export function badInput(failure: { tooLarge: boolean; fields: string[] }): HttpReply {
  if (failure.tooLarge) {
    // The rest of the body stays unread, so the connection cannot carry another request.
    return { status: 413, body: { code: "BAD_INPUT" }, headers: { ...NO_STORE, connection: "close" } };
  }
  return refusal("BAD_INPUT", failure.fields.length ? { fields: failure.fields } : undefined);
}

function check<S extends z.ZodType>(spec: RequestSpec<S>, raw: unknown): Parsed<z.output<S>> {
  const r = spec.schema.safeParse(raw);
  return r.success ? { ok: true, data: r.data } : { ok: false, tooLarge: false, fields: r.error.issues.map((i) => i.path.join(".")) };
}

/**
 * A body's bytes without ever holding more than `maxBytes`: a declared Content-Length past it is
 * refused before a byte is read, a longer stream as soon as it passes it. Null means too large.
 */
export function readBytes(body: RequestBody, maxBytes: number): Promise<Buffer | null> {
  if (Number(body.contentLength ?? 0) > maxBytes) return Promise.resolve(null);
  // Not an async function: on the hot server's path each promise costs the async hooks Next.js enables.
  return body.read ? body.read(maxBytes) : readChunks(body.chunks, maxBytes);
}

async function readChunks(chunks: AsyncIterable<Uint8Array> | null, maxBytes: number): Promise<Buffer | null> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks ?? []) {
    size += chunk.byteLength;
    if (size > maxBytes) return null;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** A JSON body read against its request spec: its size limit, then its schema. */
export function readJson<S extends z.ZodType>(spec: RequestSpec<S>, body: RequestBody): Promise<Parsed<z.output<S>>> {
  return readBytes(body, spec.maxBytes).then((bytes) => parseJson(spec, bytes));
}

/** Bytes read against a spec (null: past its limit), parsed and checked. */
export function parseJson<S extends z.ZodType>(spec: RequestSpec<S>, bytes: Buffer | null): Parsed<z.output<S>> {
  if (bytes === null) return { ok: false, tooLarge: true, fields: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch {
    return { ok: false, tooLarge: false, fields: [] }; // not JSON: a 400 with no field to name
  }
  return check(spec, raw);
}

/** The same spec for a form a server action received: the limit counts the fields' bytes, files are refused. */
export function readForm<S extends z.ZodType>(spec: RequestSpec<S>, form: FormData): Parsed<z.output<S>> {
  let size = 0;
  const raw: Record<string, string> = {};
  for (const [name, value] of form) {
    if (typeof value !== "string") return { ok: false, tooLarge: false, fields: [name] };
    size += Buffer.byteLength(name) + Buffer.byteLength(value);
    if (size > spec.maxBytes) return { ok: false, tooLarge: true, fields: [] };
    raw[name] = value;
  }
  return check(spec, raw);
}

/** Who is asking, beyond the session: the gate's view (client address, captcha pass cookie). */
export interface DoorContext {
  gate?: Gate;
  ip?: string | null;
  cookie?: string | null;
  /** The sales channel of a buy (docs/channels.md): channelOf for the shop's doors, the key's for a partner's. */
  channel?: string;
}

/**
 * The sales channel a shop request buys through: app when it carries a bearer token (the app's API),
 * else web. Never a header the client names (X-Channel is ignored): a partner's channel comes only
 * with its API key, on the partner route.
 */
export function channelOf(authorization: string | null | undefined): string {
  return authorization?.startsWith("Bearer ") ? APP_CHANNEL : WEB_CHANNEL;
}

/** 429 with the seconds to wait, in the body for the page and in Retry-After for any client. */
export function rateLimited(retryAfterS: number): HttpReply {
  return sharedReply(`RATE_LIMITED:${retryAfterS}`, () => ({
    status: 429,
    body: { code: "RATE_LIMITED", retryAfter: retryAfterS },
    headers: { ...NO_STORE, "retry-after": String(retryAfterS) },
  }));
}

/** The refusals every private side route can give before its own (see privateReply). */
export type PrivateRefusal = "UNAUTHENTICATED" | "NOT_FOUND" | "BLOCKED" | "EMAIL_UNVERIFIED";

/**
 * The checks every private side route of a sale (pre-queue, waitlist, pre-sale deposit) passes before
 * `answer` runs: a session, a well-formed sale id, the blocklist, the private polls' rate limit, and a
 * confirmed email to join (when required). `refuse` writes the route's own refusal for a code.
 */
export async function privateReply(
  refuse: (code: PrivateRefusal) => HttpReply,
  user: SessionClaims | null,
  activityId: string,
  door: DoorContext | undefined,
  joining: boolean,
  answer: (userId: string) => Promise<HttpReply>,
): Promise<HttpReply> {
  if (!user) return refuse("UNAUTHENTICATED");
  if (!isActivityId(activityId)) return refuse("NOT_FOUND");
  if (door?.gate?.blocklist.blocks({ userId: user.userId, ip: door.ip, email: user.email })) return refuse("BLOCKED");
  if (door?.gate) {
    const verdict = await door.gate.limits.hit("tickets", user.userId, door.ip);
    if (!verdict.ok) return rateLimited(verdict.retryAfterS);
  }
  if (joining && door?.gate?.requireVerifiedEmail && !user.verified) return refuse("EMAIL_UNVERIFIED");
  return answer(user.userId);
}

/** A blocked user, address or email domain (admin console → Blocklist), counted on the dashboard. */
function blocked(core: FlashCore, user: SessionClaims, activityId: string, door?: DoorContext): HttpReply | null {
  if (!door?.gate?.blocklist.blocks({ userId: user.userId, ip: door.ip, email: user.email })) return null;
  core.countRefusal(activityId, "BLOCKED", user.userId);
  return refusal("BLOCKED");
}

// The rate limit of a hot route, counted per activity on the dashboard when refused. Without a gate
// or with limits off it is null at once, not a promise (callers test `limits.enabled` first: on the
// hot server every promise costs the async hooks Next.js's AsyncLocalStorage turns on).
async function limited(core: FlashCore, route: HotRoute, userId: string, activityId: string | null, gate: Gate, ip?: string | null) {
  const verdict = await gate.limits.hit(route, userId, ip);
  if (verdict.ok) return null;
  if (activityId) core.countRefusal(activityId, "RATE_LIMITED", userId);
  return rateLimited(verdict.retryAfterS);
}

/**
 * The refusals a buy gets before anything asynchronous: no session, no such sale, or one this process
 * can give from its cached view (not started, sold out for a non-buyer). Null: go on. The hot server
 * answers these in the same tick as the request (the sold-out crowd), buyReply starts with them.
 */
export function refuseBuyEarly(core: FlashCore, user: SessionClaims | null, activityId: string): HttpReply | null {
  if (!user) return refusal("UNAUTHENTICATED");
  if (!isActivityId(activityId)) return refusal("NOT_FOUND");
  const cached = core.refuseFromCache(activityId, user.userId);
  return cached && !cached.ok ? refusal(cached.code) : null;
}

export async function buyReply(
  core: FlashCore, user: SessionClaims | null, activityId: string, body: RequestBody, door?: DoorContext,
): Promise<HttpReply> {
  const early = refuseBuyEarly(core, user, activityId);
  if (early || !user) return early ?? refusal("UNAUTHENTICATED");
  const limit = blocked(core, user, activityId, door) ?? (door?.gate?.limits.enabled ? await limited(core, "orders", user.userId, activityId, door.gate, door.ip) : null);
  if (limit) return limit;
  const input = await readJson(buyRequest, body);
  if (!input.ok) return badInput(input);
  const result = await core.admit(activityId, user.userId, input.data, Date.now(), door?.channel);
  if (!result.ok) return refusal(result.code);
  return { status: 202, body: { ticketId: result.ticketId, sequence: result.sequence } satisfies BuyAccepted, headers: NO_STORE };
}

/** The header a partner's API key travels in (docs/channels.md). */
export const API_KEY_HEADER = "x-api-key";

/**
 * A partner's buy (POST /api/partner/activities/{id}/orders, docs/channels.md), on both doors: the
 * partner behind the API key (looked up by the door; null: unknown or revoked → 401 BAD_API_KEY)
 * names the channel, the shopper's own bearer token the buyer, so the per-user limit is the shop's.
 */
export async function partnerBuyReply(
  core: FlashCore, partner: { id: string; channel: string } | null, user: SessionClaims | null, activityId: string,
  body: RequestBody, door?: DoorContext,
): Promise<HttpReply> {
  if (!partner) return refusal("BAD_API_KEY");
  // As on the plain buy route: a refusal from the cached sale state (sold out…) costs nothing, so it is not limited.
  const early = refuseBuyEarly(core, user, activityId);
  if (early) return early;
  const verdict = door?.gate ? await door.gate.limits.partnerKey(partner.id) : null;
  if (verdict && !verdict.ok) return rateLimited(verdict.retryAfterS);
  return buyReply(core, user, activityId, body, { ...door, channel: partner.channel });
}

export async function tokenReply(
  core: FlashCore, user: SessionClaims | null, activityId: string, door?: DoorContext,
): Promise<HttpReply> {
  if (!user) return refusal("UNAUTHENTICATED");
  if (!isActivityId(activityId)) return refusal("NOT_FOUND");
  const limit = blocked(core, user, activityId, door) ?? (door?.gate?.limits.enabled ? await limited(core, "token", user.userId, activityId, door.gate, door.ip) : null);
  if (limit) return limit;
  if (door?.gate?.requireVerifiedEmail && !user.verified) {
    core.countRefusal(activityId, "EMAIL_UNVERIFIED", user.userId);
    return refusal("EMAIL_UNVERIFIED");
  }
  // An HMAC over the cookie, checked in this process: the pass costs no Redis round trip.
  const hasPass = door?.gate?.passes.verify(door.cookie, activityId, user.userId) ?? false;
  const result = await core.issueToken(activityId, user.userId, Date.now(), { hasPass });
  if (!result.ok) return refusal(result.code, result.startAt ? { startAt: result.startAt } : undefined);
  return { status: 200, body: { token: result.token } satisfies TokenGranted, headers: NO_STORE };
}

export async function ticketReply(
  core: FlashCore, user: SessionClaims | null, ticketId: string, door?: DoorContext,
): Promise<HttpReply> {
  if (!user) return refusal("UNAUTHENTICATED");
  const limit = door?.gate?.limits.enabled ? await limited(core, "tickets", user.userId, null, door.gate, door.ip) : null;
  if (limit) return limit;
  const view = await core.ticket(ticketId, user.userId);
  // Someone else's ticket and a missing one look the same (I5).
  if (!view) return refusal("NOT_FOUND");
  return { status: 200, body: view, headers: NO_STORE };
}

/** The shopper's own state in a sale (tickets, units held, trace): private, limited like the ticket polls. */
export async function meReply(
  core: FlashCore, user: SessionClaims | null, activityId: string, door?: DoorContext,
): Promise<HttpReply> {
  if (!user) return refusal("UNAUTHENTICATED");
  if (!isActivityId(activityId)) return refusal("NOT_FOUND");
  const limit = door?.gate?.limits.enabled ? await limited(core, "tickets", user.userId, null, door.gate, door.ip) : null;
  if (limit) return limit;
  const state = await core.me(activityId, user.userId);
  if (!state) return refusal("NOT_FOUND");
  return { status: 200, body: state satisfies ShopperState, headers: NO_STORE };
}

export async function progressReply(core: FlashCore, activityId: string): Promise<HttpReply> {
  if (!isActivityId(activityId)) return refusal("NOT_FOUND");
  const progress = await core.progress(activityId);
  if (!progress) return refusal("NOT_FOUND");
  return { status: 200, body: progress, headers: SHARED_1S };
}

export function timeReply(): HttpReply {
  return { status: 200, body: { now: Date.now() }, headers: NO_STORE };
}

/** Routes the hot paths; null means "not a flash route" so the caller hands the request on. */
export function matchFlashRoute(method: string, pathname: string):
  | { route: "buy" | "token" | "progress" | "me" | "partnerBuy"; activityId: string }
  | { route: "ticket"; ticketId: string }
  | { route: "time" }
  | null {
  if (!pathname.startsWith("/api/")) return null;
  if (pathname === "/api/time" && method === "GET") return { route: "time" };
  let m = /^\/api\/activities\/([^/]+)\/(orders|token|progress|me)$/.exec(pathname);
  if (m) {
    const [, activityId, what] = m as unknown as [string, string, string];
    if (what === "orders" && method === "POST") return { route: "buy", activityId };
    if (what === "token" && method === "GET") return { route: "token", activityId };
    if (what === "progress" && method === "GET") return { route: "progress", activityId };
    if (what === "me" && method === "GET") return { route: "me", activityId };
    return null;
  }
  m = /^\/api\/tickets\/([^/]+)$/.exec(pathname);
  if (m && method === "GET") return { route: "ticket", ticketId: m[1]! };
  // A partner's buy (docs/channels.md): the API key names the channel, the bearer token the shopper.
  m = /^\/api\/partner\/activities\/([^/]+)\/orders$/.exec(pathname);
  if (m && method === "POST") return { route: "partnerBuy", activityId: m[1]! };
  return null;
}
