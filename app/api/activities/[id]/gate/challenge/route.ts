import { flash } from "@/lib/flash/instance";
import { gateDoor, readClaims, toResponse } from "@/lib/flash/route";
import { gateChallengeReply } from "@/lib/gate/http";

export async function GET(req: Request, ctx: RouteContext<"/api/activities/[id]/gate/challenge">) {
  const { id } = await ctx.params;
  return toResponse(await gateChallengeReply(flash().core, await readClaims(req), id, gateDoor(req)));
}
