import { notifyReply } from "@/lib/payments/http";

// The shop's notification endpoint for the configured provider (/api/payments/sandbox/notify or
// /api/payments/stripe/notify); scripts/server.ts answers the same path without the Next.js router.
// The body is read raw: the signature is over its exact bytes.
export async function POST(req: Request, ctx: RouteContext<"/api/payments/[provider]/notify">) {
  const { provider } = await ctx.params;
  const reply = await notifyReply(provider, await req.text(), req.headers);
  return new Response(reply.body, { status: reply.status, headers: { "content-type": reply.contentType } });
}
