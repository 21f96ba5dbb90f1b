import "server-only";
import { z } from "zod";
import type { SessionClaims } from "@/lib/auth/session-token";
import type { ActivityState } from "@/lib/flash/store";
import type { FlashCore } from "@/lib/flash/core";
import { rateLimited, refusal, type DoorContext, type HttpReply } from "@/lib/flash/http";
import { activityIdSchema } from "@/lib/flash/schemas";
import type { Gate } from "@/lib/gate";

// The human check's HTTP doors (framework-free, like lib/flash/http.ts): the widget's settings and
// whether this shopper holds a pass, a fresh challenge, and the answer that earns the pass.

const NO_STORE = { "cache-control": "private, no-store" };
export const gateAnswerSchema = z.object({ answer: z.string().min(1).max(8192) });

type Door = DoorContext & { gate: Gate; secureCookies: boolean };

type Sale = { reply: HttpReply } | { reply?: undefined; user: SessionClaims; state: ActivityState };

async function openSale(core: FlashCore, user: SessionClaims | null, activityId: string, door: Door): Promise<Sale> {
  if (!user) return { reply: refusal("UNAUTHENTICATED") };
  if (!activityIdSchema.safeParse(activityId).success) return { reply: refusal("NOT_FOUND") };
  const state = await core.states.get(activityId);
  if (!state) return { reply: refusal("NOT_FOUND") };
  if (state.status === "ENDED" || state.status === "CANCELLED" || Date.now() >= state.endMs) return { reply: refusal("ENDED") };
  const verdict = await door.gate.limits.hit("token", user.userId, door.ip);
  if (!verdict.ok) return { reply: rateLimited(verdict.retryAfterS) };
  return { user, state };
}

/** GET /api/activities/{id}/gate: which widget, whether the sale requires a pass, whether the caller has one. */
export async function gateStatusReply(core: FlashCore, user: SessionClaims | null, activityId: string, door: Door): Promise<HttpReply> {
  const sale = await openSale(core, user, activityId, door);
  if (sale.reply) return sale.reply;
  return {
    status: 200,
    body: {
      ...door.gate.captcha.widget(activityId),
      required: sale.state.passRequired,
      passed: door.gate.passes.verify(door.cookie, activityId, sale.user.userId),
    },
    headers: NO_STORE,
  };
}

/** GET /api/activities/{id}/gate/challenge: a fresh ALTCHA challenge for this shopper and sale. */
export async function gateChallengeReply(core: FlashCore, user: SessionClaims | null, activityId: string, door: Door): Promise<HttpReply> {
  const sale = await openSale(core, user, activityId, door);
  if (sale.reply) return sale.reply;
  const challenge = await door.gate.captcha.challenge({
    activityId, userId: sale.user.userId, ip: door.ip, difficulty: sale.state.captchaCost || 5000,
  });
  if (!challenge) return refusal("NOT_FOUND");
  return { status: 200, body: challenge, headers: NO_STORE };
}

/** POST /api/activities/{id}/gate {answer}: a solved check earns a short-lived pass (an HttpOnly cookie). */
export async function gatePassReply(
  core: FlashCore, user: SessionClaims | null, activityId: string, body: unknown, door: Door,
): Promise<HttpReply> {
  const sale = await openSale(core, user, activityId, door);
  if (sale.reply) return sale.reply;
  const input = gateAnswerSchema.safeParse(body);
  if (!input.success) return refusal("BAD_INPUT", { fields: ["answer"] });
  const ok = await door.gate.captcha.verify(input.data.answer, { activityId, userId: sale.user.userId, ip: door.ip });
  if (!ok) {
    core.countRefusal(activityId, "PASS_REQUIRED");
    return { status: 403, body: { code: "CHECK_FAILED" }, headers: NO_STORE };
  }
  return {
    status: 200,
    body: { passed: true },
    headers: { ...NO_STORE, "set-cookie": door.gate.passes.cookie(activityId, sale.user.userId, door.secureCookies) },
  };
}
