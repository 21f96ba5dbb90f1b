import { flash } from "@/lib/flash/instance";
import { progressReply } from "@/lib/flash/http";
import { toResponse } from "@/lib/flash/route";

export async function GET(_req: Request, ctx: RouteContext<"/api/activities/[id]/progress">) {
  const { id } = await ctx.params;
  return toResponse(await progressReply(flash().core, id));
}
