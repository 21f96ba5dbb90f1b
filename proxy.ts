import createMiddleware from "next-intl/middleware";
import { NextResponse, type NextRequest } from "next/server";
import { getToken } from "next-auth/jwt";
import { routing } from "@/lib/i18n/routing";

const localize = createMiddleware(routing);

// Every page request: pick the locale and rewrite /x to /<locale>/x (lib/i18n/routing.ts).
// The admin area and its API also get their first line of defence here; every admin page, action
// and API checks again on its own.
export async function proxy(request: NextRequest) {
  const { pathname } = request.nextUrl;
  const isApi = pathname.startsWith("/api/");
  if (isApi || pathname === "/admin" || pathname.startsWith("/admin/")) {
    const refused = await refuseNonAdmin(request, isApi);
    if (refused) return refused;
    if (isApi) return NextResponse.next();
  }
  const res = localize(request);
  // The locale cookie is the switcher's to write (lib/i18n/locales.ts): a Set-Cookie on a static page
  // would make every copy of it private to one browser, so no CDN could serve it.
  res.headers.delete("set-cookie");
  return res;
}

async function refuseNonAdmin(request: NextRequest, isApi: boolean): Promise<NextResponse | undefined> {
  const token = await getToken({ req: request, secret: process.env.NEXTAUTH_SECRET });
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
  return undefined;
}

export const config = {
  // Pages (not Next's assets, uploaded images or files with an extension) and the admin API.
  matcher: ["/((?!api|_next|uploads|.*\\..*).*)", "/api/admin/:path*"],
};
