import { NextResponse, type NextRequest } from "next/server";
import { getToken } from "next-auth/jwt";

// First line of defence for the admin area; every admin page, action and API checks again on its own.
export async function proxy(request: NextRequest) {
  const token = await getToken({ req: request, secret: process.env.NEXTAUTH_SECRET });
  const isApi = request.nextUrl.pathname.startsWith("/api/");
  if (!token) {
    if (isApi) return NextResponse.json({ code: "UNAUTHENTICATED" }, { status: 401 });
    const url = new URL("/sign-in", request.url);
    url.searchParams.set("callbackUrl", request.nextUrl.pathname + request.nextUrl.search);
    return NextResponse.redirect(url);
  }
  if (token.role !== "ADMIN") {
    if (isApi) return NextResponse.json({ code: "FORBIDDEN" }, { status: 403 });
    return NextResponse.redirect(new URL("/forbidden", request.url));
  }
  return NextResponse.next();
}

export const config = {
  matcher: ["/admin/:path*", "/api/admin/:path*"],
};
