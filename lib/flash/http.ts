import "server-only";
import type { SessionClaims } from "@/lib/auth/session-token";
import { httpStatus, type RefusalCode } from "@/lib/flash/codes";
import type { FlashCore } from "@/lib/flash/core";
import { activityIdSchema, buySchema } from "@/lib/flash/schemas";
import type { BuyAccepted, TokenGranted } from "@/lib/flash/wire";

/**
 * The HTTP doors of the flash-sale core, free of any framework: the hot server (scripts/server.ts)
 * and the Next.js route handlers both call these, so the two stay the same API.
 */
export interface HttpReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const NO_STORE = { "cache-control": "private, no-store" };
// Shared and identical for every shopper: a CDN may serve it to all of them for a second.
const SHARED_1S = { "cache-control": "public, max-age=1, s-maxage=1, stale-while-revalidate=1" };

export function refusal(code: RefusalCode, extra: Record<string, unknown> = {}): HttpReply {
  return { status: httpStatus(code), body: { code, ...extra }, headers: NO_STORE };
}

export async function buyReply(core: FlashCore, user: SessionClaims | null, activityId: string, body: unknown): Promise<HttpReply> {
  if (!user) return refusal("UNAUTHENTICATED");
  const id = activityIdSchema.safeParse(activityId);
  const input = buySchema.safeParse(body);
  if (!id.success) return refusal("NOT_FOUND");
  if (!input.success) return refusal("BAD_INPUT", { fields: input.error.issues.map((i) => i.path.join(".")) });
  const result = await core.admit(id.data, user.userId, input.data);
  if (!result.ok) return refusal(result.code);
  return { status: 202, body: { ticketId: result.ticketId, sequence: result.sequence } satisfies BuyAccepted, headers: NO_STORE };
}

export async function tokenReply(core: FlashCore, user: SessionClaims | null, activityId: string): Promise<HttpReply> {
  if (!user) return refusal("UNAUTHENTICATED");
  if (!activityIdSchema.safeParse(activityId).success) return refusal("NOT_FOUND");
  const result = await core.issueToken(activityId, user.userId);
  if (!result.ok) return refusal(result.code, result.startAt ? { startAt: result.startAt } : {});
  return { status: 200, body: { token: result.token } satisfies TokenGranted, headers: NO_STORE };
}

export async function ticketReply(core: FlashCore, user: SessionClaims | null, ticketId: string): Promise<HttpReply> {
  if (!user) return refusal("UNAUTHENTICATED");
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
