import "server-only";
import { unstable_rethrow } from "next/navigation";
import { adminWriteAllowed, currentAdmin, type AdminUser } from "@/lib/admin/guard";
import { adminHttpStatus, type AdminResult } from "@/lib/admin/results";

const NO_STORE = { "cache-control": "private, no-store" };

/** An admin result as JSON, with the status its code maps to (lib/admin/results.ts). */
export function resultResponse(result: AdminResult<object>): Response {
  return Response.json(result, { status: result.ok ? 200 : adminHttpStatus(result.code), headers: NO_STORE });
}

/**
 * Wraps an admin route handler: checks the admin on its own (the proxy checks too, but a route
 * must not rely on it), and answers 503 rather than a raw error if the handler throws.
 */
export function adminRoute<C>(handler: (req: Request, ctx: C, admin: AdminUser) => Promise<Response>) {
  return async (req: Request, ctx: C): Promise<Response> => {
    try {
      const auth = await currentAdmin();
      if (!auth.ok) return resultResponse(auth);
      if (req.method !== "GET" && req.method !== "HEAD") {
        const allowed = await adminWriteAllowed(auth.admin);
        if (!allowed.ok) {
          const res = resultResponse({ ok: false, code: allowed.code, message: allowed.message });
          res.headers.set("retry-after", String(allowed.retryAfterS));
          return res;
        }
      }
      return await handler(req, ctx, auth.admin);
    } catch (e) {
      unstable_rethrow(e);
      console.error("[admin] route failed:", e instanceof Error ? e.message : e);
      return resultResponse({ ok: false, code: "UNAVAILABLE" });
    }
  };
}

/** The JSON body of a request, or undefined if it is not JSON. */
export async function jsonBody(req: Request): Promise<unknown> {
  return req.json().catch(() => undefined);
}
