import { flash } from "@/lib/flash/instance";
import { refusal } from "@/lib/flash/http";
import { gateDoor, readClaims, toResponse } from "@/lib/flash/route";
import { gatePassReply, gateStatusReply } from "@/lib/gate/http";

export async function GET(req: Request, ctx: RouteContext<"/api/activities/[id]/gate">) {
  const { id } = await ctx.params;
  return toResponse(await gateStatusReply(flash().core, await readClaims(req), id, gateDoor(req)));
}

export async function POST(req: Request, ctx: RouteContext<"/api/activities/[id]/gate">) {
  const { id } = await ctx.params;
  const body: unknown = await req.json().catch(() => undefined);
  if (body === undefined) return toResponse(refusal("BAD_INPUT"));
  return toResponse(await gatePassReply(flash().core, await readClaims(req), id, body, gateDoor(req)));
}
