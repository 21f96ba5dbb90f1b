import { flash } from "@/lib/flash/instance";
import { tokenReply } from "@/lib/flash/http";
import { doorContext, readClaims, toResponse } from "@/lib/flash/route";

export async function GET(req: Request, ctx: RouteContext<"/api/activities/[id]/token">) {
  const { id } = await ctx.params;
  return toResponse(await tokenReply(flash().core, await readClaims(req), id, doorContext(req)));
}
