import NextAuth from "next-auth";
import { authOptions } from "@/lib/auth/options";
import { isParsableHttpUrl } from "@/lib/http/safe-redirect";

// next-auth answers a callback URL it cannot parse (query or cookie) with a 500; here it is a 400.
function badCallbackUrl(req: Request): boolean {
  const url = new URL(req.url);
  const values = [url.searchParams.get("callbackUrl")];
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name?.endsWith("next-auth.callback-url")) values.push(decodeOr(rest.join("=")));
  }
  return values.some((v) => v !== null && !isParsableHttpUrl(v, url.origin));
}

function decodeOr(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return "\u0000"; // a broken escape: not a URL, refused like one
  }
}

function handler(req: Request, ctx: { params: Promise<{ nextauth: string[] }> }) {
  if (badCallbackUrl(req)) return Response.json({ code: "BAD_INPUT" }, { status: 400 });
  return NextAuth(authOptions())(req, ctx);
}

export { handler as GET, handler as POST };
