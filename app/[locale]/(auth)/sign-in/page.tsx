import type { Metadata } from "next";
import Link from "next/link";
import { getTranslations, setRequestLocale } from "next-intl/server";
import type { Locale } from "@/lib/i18n/locales";
import { Suspense } from "react";
import { SignInForm } from "@/components/auth/sign-in-form";
import { AuthSwitchLink } from "@/components/auth/switch-link";

type Props = { params: Promise<{ locale: Locale }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: (await getTranslations({ locale: (await params).locale, namespace: "auth" }))("signInTitle") };
}

// Static per locale: the form reads ?callbackUrl in the browser.
export default async function SignInPage({ params }: Props) {
  setRequestLocale((await params).locale);
  const t = await getTranslations("auth");
  return (
    <div className="card" style={{ maxWidth: 440, margin: "0 auto" }}>
      <h1>{t("signInTitle")}</h1>
      {/* The form reads ?callbackUrl; the rest of the page stays static. */}
      <Suspense>
        <SignInForm />
      </Suspense>
      <p className="muted">
        {t("newHere")}{" "}
        <Suspense fallback={<Link href="/sign-up">{t("createAccount")}</Link>}>
          <AuthSwitchLink href="/sign-up">{t("createAccount")}</AuthSwitchLink>
        </Suspense>
      </p>
    </div>
  );
}
