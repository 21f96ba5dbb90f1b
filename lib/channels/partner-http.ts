import "server-only";
import { verifyApiKey } from "@/lib/channels";
import { db } from "@/lib/db";
import { flash } from "@/lib/flash/instance";
import { buyReply, rateLimited, refusal, refuseBuyEarly, type HttpReply } from "@/lib/flash/http";
import { bodyOf, doorContext, readClaims } from "@/lib/flash/route";
import { gate } from "@/lib/gate";

/** The header a partner's API key travels in (docs/channels.md). */
export const API_KEY_HEADER = "x-api-key";

/**
 * A partner's buy (POST /api/partner/activities/{id}/orders): the partner's API key names the channel
 * (and only it can), the shopper's own bearer token names the buyer, so the per-user limit is the
 * shop's as on every door. Unknown or revoked key: 401 BAD_API_KEY; each key rate-limited.
 */
export async function partnerBuyReply(req: Request, activityId: string): Promise<HttpReply> {
  const partner = await verifyApiKey(db(), req.headers.get(API_KEY_HEADER));
  if (!partner) return refusal("BAD_API_KEY");
  const claims = await readClaims(req);
  // As on the plain buy route: a refusal from the cached sale state (sold out…) costs nothing, so it is not limited.
  const early = refuseBuyEarly(flash().core, claims, activityId);
  if (early) return early;
  const verdict = await gate().limits.partnerKey(partner.id);
  if (!verdict.ok) return rateLimited(verdict.retryAfterS);
  return buyReply(flash().core, claims, activityId, bodyOf(req), { ...doorContext(req), channel: partner.channel });
}
