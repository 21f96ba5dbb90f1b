import type { Metadata } from "next";
import Link from "next/link";
import { getTranslations } from "next-intl/server";
import { verifyEmail } from "@/lib/auth/email-verification";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("auth"))("verifyTitle") };
}

type Props = { searchParams: Promise<{ token?: string | string[] }> };

// The link mailed at sign-up lands here. Confirming is idempotent, so a second click says the same.
export default async function VerifyEmailPage({ searchParams }: Props) {
  const raw = (await searchParams).token;
  const result = await verifyEmail(typeof raw === "string" ? raw : "");
  const t = await getTranslations("auth");
  return (
    <div className="card" style={{ maxWidth: 440, margin: "0 auto" }}>
      <h1>{t("verifyTitle")}</h1>
      <div data-testid="verify-result">
        {result.ok ? (
          <p className="alert ok">
            {t("verified")} <Link href="/sign-in">{t("signInAgain")}</Link> {t("toBuy")}
          </p>
        ) : result.code === "EXPIRED" ? (
          <p className="alert">{t("expired")}</p>
        ) : (
          <p className="alert">{t("invalid")}</p>
        )}
      </div>
    </div>
  );
}
