import { flash } from "@/lib/flash/instance";
import { meReply } from "@/lib/flash/http";
import { doorContext, readClaims, toResponse } from "@/lib/flash/route";

export async function GET(req: Request, ctx: RouteContext<"/api/activities/[id]/me">) {
  const { id } = await ctx.params;
  return toResponse(await meReply(flash().core, await readClaims(req), id, doorContext(req)));
}
