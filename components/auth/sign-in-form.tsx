"use client";

import { signIn } from "next-auth/react";
import { useRouter, useSearchParams } from "next/navigation";
import { useActionState } from "react";

type State = { error: string | null };

export function SignInForm() {
  const router = useRouter();
  const params = useSearchParams();
  const callbackUrl = safeCallback(params.get("callbackUrl"));
  const [state, submit, pending] = useActionState<State, FormData>(async (_prev, form) => {
    const result = await signIn("credentials", {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      redirect: false,
    });
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

// Only same-site paths, so the sign-in page cannot be used as an open redirect.
function safeCallback(value: string | null): string {
  return value && value.startsWith("/") && !value.startsWith("//") ? value : "/";
}
