import type { Metadata } from "next";
import Link from "next/link";
import { getTranslations } from "next-intl/server";
import { Suspense } from "react";
import { SignUpForm } from "@/components/auth/sign-up-form";
import { AuthSwitchLink } from "@/components/auth/switch-link";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("auth"))("signUpTitle") };
}

export default async function SignUpPage() {
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
