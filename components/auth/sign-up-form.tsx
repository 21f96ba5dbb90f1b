"use client";

import { signIn } from "next-auth/react";
import { useRouter, useSearchParams } from "next/navigation";
import { useTranslations } from "next-intl";
import { useActionState, useEffect, useRef } from "react";
import { signUp, type SignUpState } from "@/app/[locale]/(auth)/actions";
import { safeRedirectPath } from "@/lib/http/safe-redirect";

export function SignUpForm() {
  const router = useRouter();
  const t = useTranslations("auth");
  const tv = useTranslations("validation");
  // Back to the sale (or page) that sent the shopper here; only ever a path on this site.
  const callbackUrl = safeRedirectPath(useSearchParams().get("callbackUrl"));
  const password = useRef("");
  const [state, submit, pending] = useActionState<SignUpState, FormData>(async (prev, form) => {
    password.current = String(form.get("password") ?? "");
    return signUp(prev, form);
  }, null);

  useEffect(() => {
    if (!state?.ok) return;
    // The account exists; sign in with the password just typed, then go back where the shopper came from.
    void signIn("credentials", { email: state.email, password: password.current, redirect: false }).then(() => {
      password.current = "";
      router.push(callbackUrl);
      router.refresh();
    });
  }, [state, router, callbackUrl]);

  const errors = state && !state.ok ? state.fieldErrors : {};
  const values = state && !state.ok ? state.values : { name: "", email: "" };
  const retryAfter = state && !state.ok ? (state.retryAfter ?? 0) : 0;
  // Keys of "validation" from the action (signUpSchema's messages or its own refusals).
  const say = (key: string | undefined) =>
    key && tv.has(key as never) ? (tv as unknown as (k: string, v: { seconds: number }) => string)(key, { seconds: retryAfter }) : key;
  return (
    <form action={submit} className="stack" noValidate>
      <label>
        {t("name")}
        <input name="name" autoComplete="name" required defaultValue={values.name} aria-invalid={!!errors.name} />
        {errors.name && <span className="field-error">{say(errors.name)}</span>}
      </label>
      <label>
        {t("email")}
        <input name="email" type="email" autoComplete="email" required defaultValue={values.email} aria-invalid={!!errors.email} />
        {errors.email && <span className="field-error">{say(errors.email)}</span>}
      </label>
      <label>
        {t("password")}
        <input name="password" type="password" autoComplete="new-password" minLength={8} required aria-invalid={!!errors.password} />
        {errors.password && <span className="field-error">{say(errors.password)}</span>}
      </label>
      <div aria-live="polite">{state?.ok && <p className="alert ok">{t("created")}</p>}</div>
      <button className="btn primary" type="submit" disabled={pending}>
        {t(pending ? "creating" : "create")}
      </button>
    </form>
  );
}
