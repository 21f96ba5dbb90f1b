import "server-only";
import type { SessionClaims } from "@/lib/auth/session-token";
import { httpStatus, type RefusalCode } from "@/lib/flash/codes";
import type { FlashCore } from "@/lib/flash/core";
import { activityIdSchema, buyRequest, type RequestSpec } from "@/lib/flash/schemas";
import type { BuyAccepted, TokenGranted } from "@/lib/flash/wire";
import type { Gate } from "@/lib/gate";
import type { HotRoute } from "@/lib/rate-limit";
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

export function refusal(code: RefusalCode, extra: Record<string, unknown> = {}): HttpReply {
  const headers = code === "UNAVAILABLE" ? { ...NO_STORE, "retry-after": String(UNAVAILABLE_RETRY_S) } : NO_STORE;
  return { status: httpStatus(code), body: { code, ...extra }, headers };
}

/** A request body as both doors have it: node:http's IncomingMessage and the web Request are both byte streams. */
export interface RequestBody {
  contentLength: string | null | undefined;
  chunks: AsyncIterable<Uint8Array> | null;
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; tooLarge: boolean; fields: string[] };

/** The answer to input that failed its request spec: 413 past the size limit, else 400 naming the fields. */
export function badInput(failure: { tooLarge: boolean; fields: string[] }): HttpReply {
  if (failure.tooLarge) {
    // The rest of the body stays unread, so the connection cannot carry another request.
    return { status: 413, body: { code: "BAD_INPUT" }, headers: { ...NO_STORE, connection: "close" } };
  }
  return refusal("BAD_INPUT", failure.fields.length ? { fields: failure.fields } : {});
}

function check<S extends z.ZodType>(spec: RequestSpec<S>, raw: unknown): Parsed<z.output<S>> {
  const r = spec.schema.safeParse(raw);
  return r.success ? { ok: true, data: r.data } : { ok: false, tooLarge: false, fields: r.error.issues.map((i) => i.path.join(".")) };
}

/**
 * A body's bytes without ever holding more than `maxBytes`: a declared Content-Length past it is
 * refused before a byte is read, a longer stream as soon as it passes it. Null means too large.
 */
export async function readBytes(body: RequestBody, maxBytes: number): Promise<Buffer | null> {
  if (Number(body.contentLength ?? 0) > maxBytes) return null;
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body.chunks ?? []) {
    size += chunk.byteLength;
    if (size > maxBytes) return null;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** A JSON body read against its request spec: its size limit, then its schema. */
export async function readJson<S extends z.ZodType>(spec: RequestSpec<S>, body: RequestBody): Promise<Parsed<z.output<S>>> {
  const bytes = await readBytes(body, spec.maxBytes);
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
}

/** 429 with the seconds to wait, in the body for the page and in Retry-After for any client. */
export function rateLimited(retryAfterS: number): HttpReply {
  return {
    status: 429,
    body: { code: "RATE_LIMITED", retryAfter: retryAfterS },
    headers: { ...NO_STORE, "retry-after": String(retryAfterS) },
  };
}

/** A blocked user, address or email domain (admin console → Blocklist), counted on the dashboard. */
function blocked(core: FlashCore, user: SessionClaims, activityId: string, door?: DoorContext): HttpReply | null {
  if (!door?.gate?.blocklist.blocks({ userId: user.userId, ip: door.ip, email: user.email })) return null;
  core.countRefusal(activityId, "BLOCKED");
  return refusal("BLOCKED");
}

// The rate limit of a hot route, counted per activity on the dashboard when refused.
async function limited(core: FlashCore, route: HotRoute, userId: string, activityId: string | null, door?: DoorContext) {
  if (!door?.gate) return null;
  const verdict = await door.gate.limits.hit(route, userId, door.ip);
  if (verdict.ok) return null;
  if (activityId) core.countRefusal(activityId, "RATE_LIMITED");
  return rateLimited(verdict.retryAfterS);
}

export async function buyReply(
  core: FlashCore, user: SessionClaims | null, activityId: string, body: RequestBody, door?: DoorContext,
): Promise<HttpReply> {
  if (!user) return refusal("UNAUTHENTICATED");
  const id = activityIdSchema.safeParse(activityId);
  if (!id.success) return refusal("NOT_FOUND");
  const cached = core.refuseFromCache(id.data, user.userId);
  if (cached && !cached.ok) return refusal(cached.code);
  const limit = blocked(core, user, id.data, door) ?? (await limited(core, "orders", user.userId, id.data, door));
  if (limit) return limit;
  const input = await readJson(buyRequest, body);
  if (!input.ok) return badInput(input);
  const result = await core.admit(id.data, user.userId, input.data);
  if (!result.ok) return refusal(result.code);
  return { status: 202, body: { ticketId: result.ticketId, sequence: result.sequence } satisfies BuyAccepted, headers: NO_STORE };
}

export async function tokenReply(
  core: FlashCore, user: SessionClaims | null, activityId: string, door?: DoorContext,
): Promise<HttpReply> {
  if (!user) return refusal("UNAUTHENTICATED");
  if (!activityIdSchema.safeParse(activityId).success) return refusal("NOT_FOUND");
  const limit = blocked(core, user, activityId, door) ?? (await limited(core, "token", user.userId, activityId, door));
  if (limit) return limit;
  if (door?.gate?.requireVerifiedEmail && !user.verified) {
    core.countRefusal(activityId, "EMAIL_UNVERIFIED");
    return refusal("EMAIL_UNVERIFIED");
  }
  // An HMAC over the cookie, checked in this process: the pass costs no Redis round trip.
  const hasPass = door?.gate?.passes.verify(door.cookie, activityId, user.userId) ?? false;
  const result = await core.issueToken(activityId, user.userId, Date.now(), { hasPass });
  if (!result.ok) return refusal(result.code, result.startAt ? { startAt: result.startAt } : {});
  return { status: 200, body: { token: result.token } satisfies TokenGranted, headers: NO_STORE };
}

export async function ticketReply(
  core: FlashCore, user: SessionClaims | null, ticketId: string, door?: DoorContext,
): Promise<HttpReply> {
  if (!user) return refusal("UNAUTHENTICATED");
  const limit = await limited(core, "tickets", user.userId, null, door);
  if (limit) return limit;
  const view = await core.ticket(ticketId, user.userId);
  // Someone else's ticket and a missing one look the same (I5).
  if (!view) return refusal("NOT_FOUND");
  return { status: 200, body: view, headers: NO_STORE };
}

export async function progressReply(core: FlashCore, activityId: string): Promise<HttpReply> {
  if (!activityIdSchema.safeParse(activityId).success) return refusal("NOT_FOUND");
  const progress = await core.progress(activityId);
  if (!progress) return refusal("NOT_FOUND");
  return { status: 200, body: progress, headers: SHARED_1S };
}

export function timeReply(): HttpReply {
  return { status: 200, body: { now: Date.now() }, headers: NO_STORE };
}

/** Routes the hot paths; null means "not a flash route" so the caller hands the request on. */
export function matchFlashRoute(method: string, pathname: string):
  | { route: "buy" | "token" | "progress"; activityId: string }
  | { route: "ticket"; ticketId: string }
  | { route: "time" }
  | null {
  if (!pathname.startsWith("/api/")) return null;
  if (pathname === "/api/time" && method === "GET") return { route: "time" };
  let m = /^\/api\/activities\/([^/]+)\/(orders|token|progress)$/.exec(pathname);
  if (m) {
    const [, activityId, what] = m as unknown as [string, string, string];
    if (what === "orders" && method === "POST") return { route: "buy", activityId };
    if (what === "token" && method === "GET") return { route: "token", activityId };
    if (what === "progress" && method === "GET") return { route: "progress", activityId };
    return null;
  }
  m = /^\/api\/tickets\/([^/]+)$/.exec(pathname);
  if (m && method === "GET") return { route: "ticket", ticketId: m[1]! };
  return null;
}
