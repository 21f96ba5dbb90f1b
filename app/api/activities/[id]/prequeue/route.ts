import { joinReply, prequeueReply } from "@/lib/flash/fair-entry-http";
import { doorContext, readClaims, toResponse } from "@/lib/flash/route";

export async function GET(req: Request, ctx: RouteContext<"/api/activities/[id]/prequeue">) {
  const { id } = await ctx.params;
  return toResponse(await prequeueReply(await readClaims(req), id, doorContext(req)));
}

export async function POST(req: Request, ctx: RouteContext<"/api/activities/[id]/prequeue">) {
  const { id } = await ctx.params;
  return toResponse(await joinReply(await readClaims(req), id, doorContext(req)));
}
