"use client";

import { signIn } from "next-auth/react";
import { useRouter, useSearchParams } from "next/navigation";
import { useActionState } from "react";
import { RATE_LIMITED_ERROR } from "@/lib/auth/schemas";
import { safeRedirectPath } from "@/lib/http/safe-redirect";

type State = { error: string | null };

export function SignInForm() {
  const router = useRouter();
  const params = useSearchParams();
  const callbackUrl = safeRedirectPath(params.get("callbackUrl"));
  const [state, submit, pending] = useActionState<State, FormData>(async (_prev, form) => {
    const result = await signIn("credentials", {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      redirect: false,
    });
    if (result?.error?.startsWith(RATE_LIMITED_ERROR)) {
      return { error: `Too many attempts, retry in ${result.error.slice(RATE_LIMITED_ERROR.length)} s.` };
    }
    if (!result || result.error) return { error: "Wrong email or password." };
    router.push(callbackUrl);
    router.refresh();
    return { error: null };
  }, { error: null });

  return (
    <form action={submit} className="stack">
      <label>
        Email
        <input name="email" type="email" autoComplete="email" required />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <div aria-live="polite">{state.error && <p className="alert">{state.error}</p>}</div>
      <button className="btn primary" type="submit" disabled={pending}>
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}

