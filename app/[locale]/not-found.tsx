import type { Metadata } from "next";
import Link from "next/link";
import { getTranslations } from "next-intl/server";

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations("errors");
  return { title: t("notFoundTitle") };
}

export default async function NotFound() {
  const t = await getTranslations("errors");
  return (
    <div className="card">
      <h1>{t("notFound")}</h1>
      <p className="muted">{t("notFoundText")}</p>
      <Link href="/">{t("backToShop")}</Link>
    </div>
  );
}
