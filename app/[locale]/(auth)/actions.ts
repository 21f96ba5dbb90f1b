"use server";

import { headers } from "next/headers";
import { signUpSchema } from "@/lib/auth/schemas";
import { sendVerification } from "@/lib/auth/email-verification";
import { env } from "@/lib/env";
import { gate } from "@/lib/gate";
import { CLIENT_IP_HEADER } from "@/lib/http/front-door";
import { createShopper } from "@/lib/auth/users";
import { localeOf } from "@/lib/i18n/messages";

export type SignUpState =
  | { ok: true; email: string }
  | {
      ok: false;
      /** Keys of "validation" in messages/*.json (the form translates them); retryAfter goes with "retryIn". */
      fieldErrors: Partial<Record<"name" | "email" | "password", string>>;
      values: { name: string; email: string };
      retryAfter?: number;
    }
  | null;

export async function signUp(_prev: SignUpState, form: FormData): Promise<SignUpState> {
  const parsed = signUpSchema.safeParse(Object.fromEntries(form));
  // Echoed back so the form keeps what was typed (never the password).
  const values = { name: String(form.get("name") ?? ""), email: String(form.get("email") ?? "") };
  if (!parsed.success) {
    const fieldErrors: Record<string, string> = {};
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      fieldErrors[key] ??= issue.message;
    }
    return { ok: false, fieldErrors, values };
  }
  const ip = (await headers()).get(CLIENT_IP_HEADER);
  if (gate().blocklist.blocks({ ip, email: parsed.data.email })) {
    return { ok: false, fieldErrors: { email: "signUpBlocked" }, values };
  }
  const limited = await gate().limits.signUp(ip);
  if (!limited.ok) {
    return { ok: false, fieldErrors: { email: "retryIn" }, values, retryAfter: limited.retryAfterS };
  }
  const result = await createShopper(parsed.data);
  if (!result.ok) return { ok: false, fieldErrors: { email: "emailTaken" }, values };
  const h = await headers();
  // In the language the shopper signed up in.
  await sendVerification(result.user, env().NEXTAUTH_URL ?? `http://${h.get("host") ?? "localhost"}`, localeOf(h));
  return { ok: true, email: result.user.email };
}
