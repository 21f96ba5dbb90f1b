import type { Metadata } from "next";
import Link from "next/link";
import { getTranslations, setRequestLocale } from "next-intl/server";
import type { Locale } from "@/lib/i18n/locales";
import { Suspense } from "react";
import { SignUpForm } from "@/components/auth/sign-up-form";
import { AuthSwitchLink } from "@/components/auth/switch-link";

type Props = { params: Promise<{ locale: Locale }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: (await getTranslations({ locale: (await params).locale, namespace: "auth" }))("signUpTitle") };
}

// Static per locale: the form reads ?callbackUrl in the browser.
export default async function SignUpPage({ params }: Props) {
  setRequestLocale((await params).locale);
  const t = await getTranslations("auth");
  return (
    <div className="card" style={{ maxWidth: 440, margin: "0 auto" }}>
      <h1>{t("signUpTitle")}</h1>
      {/* The form reads ?callbackUrl (where to go once signed in); the rest of the page stays static. */}
      <Suspense>
        <SignUpForm />
      </Suspense>
      <p className="muted">
        {t("haveOne")}{" "}
        <Suspense fallback={<Link href="/sign-in">{t("signIn")}</Link>}>
          <AuthSwitchLink href="/sign-in">{t("signIn")}</AuthSwitchLink>
        </Suspense>
      </p>
    </div>
  );
}
