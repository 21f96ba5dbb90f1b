import "server-only";
import type { z } from "zod";
import { currentUser } from "@/lib/auth/session";
import type { RefusalCode } from "@/lib/flash/codes";
import { readForm } from "@/lib/flash/http";
import type { RequestSpec } from "@/lib/flash/schemas";
import { errorText, log } from "@/lib/log";

export type ActionResult<T> = ({ ok: true } & T) | { ok: false; code: RefusalCode; fields?: string[] };

/**
 * One wrapper for shopper server actions: session, the request's spec (size limit and zod, the same
 * definition the HTTP doors read) and the result type. Errors never leak raw messages.
 */
export function withShopper<S extends z.ZodType, T>(
  spec: RequestSpec<S>,
  fn: (input: z.output<S>, user: { id: string; role: string }) => Promise<ActionResult<T>>,
) {
  return async (form: FormData): Promise<ActionResult<T>> => {
    const user = await currentUser();
    if (!user) return { ok: false, code: "UNAUTHENTICATED" };
    const parsed = readForm(spec, form);
    if (!parsed.ok) return { ok: false, code: "BAD_INPUT", ...(parsed.fields.length ? { fields: parsed.fields } : {}) };
    try {
      return await fn(parsed.data, user);
    } catch (e) {
      log.error({ component: "action", err: errorText(e) }, "shopper action failed");
      return { ok: false, code: "UNAVAILABLE" };
    }
  };
}
