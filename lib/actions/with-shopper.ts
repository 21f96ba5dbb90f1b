import "server-only";
import type { z } from "zod";
import { currentUser } from "@/lib/auth/session";

export type ActionResult<T> = ({ ok: true } & T) | { ok: false; code: string; fields?: string[] };

/** One wrapper for server actions: session, zod and the result type. Errors never leak raw messages. */
export function withShopper<S extends z.ZodType, T>(
  schema: S,
  fn: (input: z.infer<S>, user: { id: string; role: string }) => Promise<ActionResult<T>>,
) {
  return async (raw: unknown): Promise<ActionResult<T>> => {
    const user = await currentUser();
    if (!user) return { ok: false, code: "UNAUTHENTICATED" };
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return { ok: false, code: "BAD_INPUT", fields: parsed.error.issues.map((i) => i.path.join(".")) };
    return fn(parsed.data, user);
  };
}
