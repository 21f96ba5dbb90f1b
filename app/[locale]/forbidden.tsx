import type { Metadata } from "next";
import Link from "next/link";
import { getTranslations } from "next-intl/server";

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations("errors");
  return { title: t("forbiddenTitle") };
}

export default async function Forbidden() {
  const t = await getTranslations("errors");
  return (
    <div className="card">
      <h1>{t("forbidden")}</h1>
      <p className="muted">{t("forbiddenText")}</p>
      <Link href="/">{t("backToShop")}</Link>
    </div>
  );
}
