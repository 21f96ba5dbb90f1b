import { flash } from "@/lib/flash/instance";
import { ticketReply } from "@/lib/flash/http";
import { doorContext, readClaims, toResponse } from "@/lib/flash/route";

export async function GET(req: Request, ctx: RouteContext<"/api/tickets/[ticketId]">) {
  const { ticketId } = await ctx.params;
  return toResponse(await ticketReply(flash().core, await readClaims(req), ticketId, doorContext(req)));
}
