import { depositReply, presaleReply } from "@/lib/orders/presale-http";
import { doorContext, readClaims, toResponse } from "@/lib/flash/route";

export async function GET(req: Request, ctx: RouteContext<"/api/activities/[id]/deposit">) {
  const { id } = await ctx.params;
  return toResponse(await presaleReply(await readClaims(req), id, doorContext(req)));
}

export async function POST(req: Request, ctx: RouteContext<"/api/activities/[id]/deposit">) {
  const { id } = await ctx.params;
  return toResponse(await depositReply(await readClaims(req), id, doorContext(req)));
}
