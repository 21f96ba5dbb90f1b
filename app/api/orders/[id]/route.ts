import { readClaims } from "@/lib/flash/route";
import { orderView } from "@/lib/orders/view";
import { queryIfDue } from "@/lib/payments/checkout";

const NO_STORE = { "cache-control": "private, no-store" };

// The shopper's order page polls this. While a payment is open and overdue it asks the provider first.
export async function GET(req: Request, ctx: RouteContext<"/api/orders/[id]">) {
  const user = await readClaims(req);
  if (!user) return Response.json({ code: "UNAUTHENTICATED" }, { status: 401, headers: NO_STORE });
  const { id } = await ctx.params;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id))
    return Response.json({ code: "NOT_FOUND" }, { status: 404, headers: NO_STORE });
  let view = await orderView(user.userId, id);
  if (view?.status === "PENDING_PAYMENT" && (await queryIfDue(id)) > 0) view = await orderView(user.userId, id);
  if (!view) return Response.json({ code: "NOT_FOUND" }, { status: 404, headers: NO_STORE });
  return Response.json(view, { headers: NO_STORE });
}
