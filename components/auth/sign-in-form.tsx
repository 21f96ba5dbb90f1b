"use client";

import { signIn } from "next-auth/react";
import { useRouter, useSearchParams } from "next/navigation";
import { useTranslations } from "next-intl";
import { useActionState } from "react";
import { RATE_LIMITED_ERROR } from "@/lib/auth/errors";
import { safeRedirectPath } from "@/lib/http/safe-redirect";

// The email typed stays in the field after a refusal; only the password is asked again.
type State = { error: { key: "wrong" } | { key: "retryIn"; seconds: string } | null; email: string };

export function SignInForm() {
  const router = useRouter();
  const t = useTranslations("auth");
  const params = useSearchParams();
  const callbackUrl = safeRedirectPath(params.get("callbackUrl"));
  const [state, submit, pending] = useActionState<State, FormData>(async (_prev, form) => {
    const email = String(form.get("email") ?? "");
    const result = await signIn("credentials", {
      email,
      password: String(form.get("password") ?? ""),
      redirect: false,
    });
    if (result?.error?.startsWith(RATE_LIMITED_ERROR)) {
      return { error: { key: "retryIn", seconds: result.error.slice(RATE_LIMITED_ERROR.length) }, email };
    }
    if (!result || result.error) return { error: { key: "wrong" }, email };
    router.push(callbackUrl);
    router.refresh();
    return { error: null, email };
  }, { error: null, email: "" });

  return (
    <form action={submit} className="stack">
      <label>
        {t("email")}
        <input name="email" type="email" autoComplete="email" required defaultValue={state.email} />
      </label>
      <label>
        {t("password")}
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <div aria-live="polite">{state.error && (
          <p className="alert">{state.error.key === "retryIn" ? t("retryIn", { seconds: state.error.seconds }) : t("wrong")}</p>
        )}</div>
      <button className="btn primary" type="submit" disabled={pending}>
        {t(pending ? "signingIn" : "signIn")}
      </button>
    </form>
  );
}

