import { joinWaitlistReply, waitlistReply } from "@/lib/flash/fair-entry-http";
import { doorContext, readClaims, toResponse } from "@/lib/flash/route";

export async function GET(req: Request, ctx: RouteContext<"/api/activities/[id]/waitlist">) {
  const { id } = await ctx.params;
  return toResponse(await waitlistReply(await readClaims(req), id, doorContext(req)));
}

export async function POST(req: Request, ctx: RouteContext<"/api/activities/[id]/waitlist">) {
  const { id } = await ctx.params;
  return toResponse(await joinWaitlistReply(await readClaims(req), id, doorContext(req)));
}
