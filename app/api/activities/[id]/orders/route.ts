import { flash } from "@/lib/flash/instance";
import { buyReply, refusal } from "@/lib/flash/http";
import { doorContext, readClaims, toResponse } from "@/lib/flash/route";

export async function POST(req: Request, ctx: RouteContext<"/api/activities/[id]/orders">) {
  const { id } = await ctx.params;
  const body: unknown = await req.json().catch(() => undefined);
  if (body === undefined) return toResponse(refusal("BAD_INPUT"));
  return toResponse(await buyReply(flash().core, await readClaims(req), id, body, doorContext(req)));
}
