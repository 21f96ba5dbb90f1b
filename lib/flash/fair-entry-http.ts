import "server-only";
import type { SessionClaims } from "@/lib/auth/session-token";
import { db } from "@/lib/db";
import { joinPrequeue, prequeueView, publishedDraw } from "@/lib/flash/fair-entry";
import type { PrequeueCode, WaitlistRefusal, WaitlistView } from "@/lib/flash/wire";
import { join as joinWaitlist, waitlistView } from "@/lib/flash/waitlist";
import { redis } from "@/lib/redis";
import { privateReply, type DoorContext, type HttpReply } from "@/lib/flash/http";
import { activityIdSchema } from "@/lib/flash/schemas";

// The HTTP side of fair entry (docs/fair-entry.md): the shopper's pre-queue entry, the public draw, and
// the waitlist of a sold-out sale.

const NO_STORE = { "cache-control": "private, no-store" };
const STATUS: Record<PrequeueCode | Exclude<WaitlistRefusal["code"], "RATE_LIMITED"> | "EMAIL_UNVERIFIED", number> = {
  UNAUTHENTICATED: 401,
  BLOCKED: 403,
  EMAIL_UNVERIFIED: 403,
  NOT_FOUND: 404,
  NO_PREQUEUE: 404,
  PREQUEUE_NOT_OPEN: 409,
  PREQUEUE_CLOSED: 409,
  NOT_STARTED: 409,
  LIMIT_REACHED: 409,
  NOT_SOLD_OUT: 409,
  ENDED: 410,
  UNAVAILABLE: 503,
};
const refuse = (code: keyof typeof STATUS): HttpReply => ({ status: STATUS[code], body: { code }, headers: NO_STORE });

/** GET /api/activities/{id}/prequeue: window, commitment, entry count and the shopper's own entry (private). */
export function prequeueReply(user: SessionClaims | null, activityId: string, door?: DoorContext): Promise<HttpReply> {
  return privateReply(refuse, user, activityId, door, false, async (userId) => {
    const r = await prequeueView(db(), activityId, userId);
    return r.ok ? { status: 200, body: r.view, headers: NO_STORE } : refuse(r.code);
  });
}

/** POST /api/activities/{id}/prequeue: joins (201; 200 with the same entry when already in). No body. */
export function joinReply(user: SessionClaims | null, activityId: string, door?: DoorContext): Promise<HttpReply> {
  return privateReply(refuse, user, activityId, door, true, async (userId) => {
    const r = await joinPrequeue(db(), activityId, userId);
    return r.ok ? { status: r.created ? 201 : 200, body: r.entry, headers: NO_STORE } : refuse(r.code);
  });
}

/** GET /api/activities/{id}/draw: public; once drawn it never changes, so it may be cached. */
export async function drawReply(activityId: string): Promise<HttpReply> {
  if (!activityIdSchema.safeParse(activityId).success) return refuse("NOT_FOUND");
  const d = await publishedDraw(db(), activityId);
  if (!d) return refuse("NOT_FOUND");
  const cache = d.drawnAt ? "public, max-age=300" : "public, max-age=1, s-maxage=1";
  return { status: 200, body: d, headers: { "cache-control": cache } };
}

/** GET /api/activities/{id}/waitlist: the shopper's place in line, or the unit offered to them (private). */
export function waitlistReply(user: SessionClaims | null, activityId: string, door?: DoorContext): Promise<HttpReply> {
  return privateReply(refuse, user, activityId, door, false, async (userId) => ({
    status: 200,
    body: (await waitlistView(redis(), activityId, userId)) satisfies WaitlistView,
    headers: NO_STORE,
  }));
}

/** POST /api/activities/{id}/waitlist: joins a sold-out sale's line (201; 200 with the same place, or an open offer). */
export function joinWaitlistReply(user: SessionClaims | null, activityId: string, door?: DoorContext): Promise<HttpReply> {
  return privateReply(refuse, user, activityId, door, true, async (userId) => {
    const r = await joinWaitlist(redis(), activityId, userId);
    // No Redis state: a sale that does not exist is NOT_FOUND, not a retry.
    if (r.kind === "NO" && r.code === "UNAVAILABLE" && !(await db().activity.count({ where: { id: activityId } }))) return refuse("NOT_FOUND");
    if (r.kind === "NO") return refuse(r.code);
    const view = await waitlistView(redis(), activityId, userId);
    return { status: r.kind === "OK" ? 201 : 200, body: view satisfies WaitlistView, headers: NO_STORE };
  });
}
