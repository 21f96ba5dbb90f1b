import type { Metadata } from "next";
import Link from "next/link";
import { getTranslations } from "next-intl/server";
import { Suspense } from "react";
import { SignInForm } from "@/components/auth/sign-in-form";
import { AuthSwitchLink } from "@/components/auth/switch-link";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("auth"))("signInTitle") };
}

export default async function SignInPage() {
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
