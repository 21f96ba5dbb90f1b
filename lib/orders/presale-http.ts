import "server-only";
import type { SessionClaims } from "@/lib/auth/session-token";
import { db } from "@/lib/db";
import type { PresaleCode, PresaleRefusal } from "@/lib/flash/wire";
import { privateReply, type DoorContext, type HttpReply } from "@/lib/flash/http";
import { createDeposit, presaleView } from "@/lib/orders/presale";

// The HTTP side of pre-sale (docs/presale.md): GET the phase and the shopper's own pre-sale order,
// POST to take a deposit (then pay it on the order page, through the ordinary checkout).

const NO_STORE = { "cache-control": "private, no-store" };
const STATUS: Record<PresaleCode | Exclude<PresaleRefusal["code"], "RATE_LIMITED">, number> = {
  UNAUTHENTICATED: 401,
  BLOCKED: 403,
  EMAIL_UNVERIFIED: 403,
  NOT_FOUND: 404,
  NO_PRESALE: 404,
  PRESALE_NOT_OPEN: 409,
  PRESALE_CLOSED: 409,
  PRESALE_SOLD_OUT: 409,
  LIMIT_REACHED: 409,
};
const refuse = (code: keyof typeof STATUS): HttpReply => ({ status: STATUS[code], body: { code }, headers: NO_STORE });

/** GET /api/activities/{id}/deposit (private). */
export function presaleReply(user: SessionClaims | null, activityId: string, door?: DoorContext): Promise<HttpReply> {
  return privateReply(refuse, user, activityId, door, false, async (userId) => {
    const r = await presaleView(db(), activityId, userId);
    return r.ok ? { status: 200, body: r.view, headers: NO_STORE } : refuse(r.code);
  });
}

/** POST /api/activities/{id}/deposit: the shopper's pre-sale order (201 new; 200 the one they have). No body. */
export function depositReply(user: SessionClaims | null, activityId: string, door?: DoorContext): Promise<HttpReply> {
  return privateReply(refuse, user, activityId, door, true, async (userId) => {
    const r = await createDeposit(db(), activityId, userId);
    return r.ok ? { status: r.created ? 201 : 200, body: r.order, headers: NO_STORE } : refuse(r.code);
  });
}
