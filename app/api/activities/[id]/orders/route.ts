import { flash } from "@/lib/flash/instance";
import { buyReply } from "@/lib/flash/http";
import { bodyOf, doorContext, readClaims, toResponse } from "@/lib/flash/route";

export async function POST(req: Request, ctx: RouteContext<"/api/activities/[id]/orders">) {
  const { id } = await ctx.params;
  return toResponse(await buyReply(flash().core, await readClaims(req), id, bodyOf(req), doorContext(req)));
}
