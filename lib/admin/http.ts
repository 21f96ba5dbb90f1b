import "server-only";
import { unstable_rethrow } from "next/navigation";
import { adminWriteAllowed, currentAdmin, type AdminUser } from "@/lib/admin/guard";
import { adminHttpStatus, type AdminResult } from "@/lib/admin/results";
import { MAX_IMAGE_BYTES } from "@/lib/admin/uploads";
import { readBytes } from "@/lib/flash/http";
import { bodyOf } from "@/lib/flash/route";
import { errorText, log } from "@/lib/log";

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
      if (e instanceof BodyTooLarge) {
        // The rest of the body stays unread, so the connection cannot carry another request.
        const body = { ok: false, code: "BAD_INPUT", message: e.message, ...(e.field ? { fieldErrors: { [e.field]: e.message } } : {}) };
        return Response.json(body, { status: 413, headers: { ...NO_STORE, connection: "close" } });
      }
      log.error({ component: "admin", err: errorText(e) }, "admin route failed");
      return resultResponse({ ok: false, code: "UNAVAILABLE" });
    }
  };
}

/** Admin JSON bodies are an activity's or a control's fields: 16 KB is several times the largest. */
const ADMIN_JSON_MAX_BYTES = 16_384;
/** An image upload: the image and its multipart framing. */
const UPLOAD_MAX_BYTES = MAX_IMAGE_BYTES + 16_384;

/** Thrown past a body limit; adminRoute answers 413 without reading the rest. */
class BodyTooLarge extends Error {
  /** `message` is a key of "admin.message" (messages/*.json); `field` the form field it concerns. */
  constructor(message: "requestTooLarge" | "imageTooLarge", readonly field?: string) {
    super(message);
  }
}

/** The JSON body of a request, or undefined if it is not JSON. */
export async function jsonBody(req: Request): Promise<unknown> {
  const bytes = await readBytes(bodyOf(req), ADMIN_JSON_MAX_BYTES);
  if (bytes === null) throw new BodyTooLarge("requestTooLarge");
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** The multipart body of an upload, or null if it is not a form. */
export async function uploadBody(req: Request): Promise<FormData | null> {
  const bytes = await readBytes(bodyOf(req), UPLOAD_MAX_BYTES);
  if (bytes === null) throw new BodyTooLarge("imageTooLarge", "file");
  const type = req.headers.get("content-type") ?? "";
  return new Response(new Uint8Array(bytes), { headers: { "content-type": type } }).formData().catch(() => null);
}
