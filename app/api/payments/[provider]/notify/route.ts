import { paymentProvider } from "@/lib/payments";
import { handleNotification } from "@/lib/payments/notifications";

// The shop's notification endpoint for the configured provider (/api/payments/sandbox/notify or
// /api/payments/stripe/notify). The body is read raw: the signature is over its exact bytes.
export async function POST(req: Request, ctx: RouteContext<"/api/payments/[provider]/notify">) {
  const { provider: name } = await ctx.params;
  const provider = paymentProvider();
  if (provider.name !== name) return Response.json({ code: "NOT_FOUND" }, { status: 404 });
  const raw = await req.text();
  if (raw.length > 64 * 1024) return new Response("body too large", { status: 413 });
  const reply = await handleNotification(provider, raw, req.headers);
  return new Response(reply.body, { status: reply.status, headers: { "content-type": reply.contentType } });
}
