import { drawReply } from "@/lib/flash/fair-entry-http";
import { toResponse } from "@/lib/flash/route";

export async function GET(_req: Request, ctx: RouteContext<"/api/activities/[id]/draw">) {
  const { id } = await ctx.params;
  return toResponse(await drawReply(id));
}
