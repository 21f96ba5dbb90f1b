import { partnerBuyReply } from "@/lib/channels/partner-http";
import { toResponse } from "@/lib/flash/route";

export async function POST(req: Request, ctx: RouteContext<"/api/partner/activities/[id]/orders">) {
  const { id } = await ctx.params;
  return toResponse(await partnerBuyReply(req, id));
}
