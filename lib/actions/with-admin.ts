import "server-only";
import { unstable_rethrow } from "next/navigation";
import type { z } from "zod";
import { adminWriteAllowed, currentAdmin, type AdminUser } from "@/lib/admin/guard";
import { badInput, fieldErrorsOf, type AdminResult } from "@/lib/admin/results";
import { formToObject } from "@/lib/admin/schemas";
import { errorText, log } from "@/lib/log";

/**
 * One wrapper for admin server actions: admin session (checked against the database), zod, and the
 * result type. The handler gets the admin, whose id goes into the audit entry it writes in the
 * same transaction as its change. Callable directly with an object or FormData, or by
 * `useActionState` as (previousState, formData). Errors never leak raw messages.
 */
export function withAdmin<S extends z.ZodType, T>(
  schema: S,
  fn: (input: z.output<S>, admin: AdminUser) => Promise<AdminResult<T>>,
) {
  return async (first: unknown, second?: unknown): Promise<AdminResult<T>> => {
    const auth = await currentAdmin();
    if (!auth.ok) return auth;
    const allowed = await adminWriteAllowed(auth.admin);
    if (!allowed.ok) return { ok: false, code: allowed.code, message: allowed.message };
    const raw = formToObject(second !== undefined ? second : first);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return badInput(fieldErrorsOf(parsed.error));
    try {
      return await fn(parsed.data, auth.admin);
    } catch (e) {
      unstable_rethrow(e);
      log.error({ component: "admin", err: errorText(e) }, "admin action failed");
      return { ok: false, code: "UNAVAILABLE", message: "The change could not be completed. Please try again." };
    }
  };
}
