import "server-only";
import { verifyApiKey } from "@/lib/channels";
import { db } from "@/lib/db";
import { flash } from "@/lib/flash/instance";
import { API_KEY_HEADER, partnerBuyReply as partnerBuy, type HttpReply } from "@/lib/flash/http";
import { bodyOf, doorContext, readClaims } from "@/lib/flash/route";

/**
 * A partner's buy (POST /api/partner/activities/{id}/orders): the partner's API key names the channel
 * (and only it can), the shopper's own bearer token names the buyer, so the per-user limit is the
 * shop's as on every door (lib/flash/http.ts partnerBuyReply, which the hot server calls too).
 */
export async function partnerBuyReply(req: Request, activityId: string): Promise<HttpReply> {
  const partner = await verifyApiKey(db(), req.headers.get(API_KEY_HEADER));
  return partnerBuy(flash().core, partner, partner ? await readClaims(req) : null, activityId, bodyOf(req), doorContext(req));
}
