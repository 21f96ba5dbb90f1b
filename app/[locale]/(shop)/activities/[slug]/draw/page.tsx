import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getTranslations, setRequestLocale } from "next-intl/server";
import { DrawVerifier } from "@/components/flash/draw-verifier";
import { verifyCommand } from "@/lib/flash/draw-proof";
import { getActivityBySlug } from "@/lib/catalog/activities";
import type { Locale } from "@/lib/i18n/locales";

// The fair-entry draw of a sale, recomputed in the visitor's browser from what the shop publishes
// (docs/fair-entry.md). Static like the sale page: the draw itself is fetched after hydration.
export const revalidate = 300;
export const dynamicParams = true;

export function generateStaticParams(): { slug: string }[] {
  return [];
}

type Params = { params: Promise<{ slug: string; locale: Locale }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { slug, locale } = await params;
  const a = await getActivityBySlug(slug);
  // No such sale or no draw: the page renders not-found, whose own metadata Next.js does not apply.
  if (!a?.prequeueMinutes) return { title: (await getTranslations({ locale, namespace: "errors" }))("notFoundTitle") };
  return { title: (await getTranslations({ locale, namespace: "fair" }))("verifyTitle", { sale: a.title }) };
}

export default async function DrawPage({ params }: Params) {
  const { slug, locale } = await params;
  setRequestLocale(locale);
  const a = await getActivityBySlug(slug);
  if (!a || a.prequeueMinutes <= 0) notFound();
  const t = await getTranslations("fair");
  return (
    <article className="draw-page">
      <h1>{t("verifyTitle", { sale: a.title })}</h1>
      <p>{t("verifyIntro")}</p>
      <DrawVerifier activityId={a.id} />
      <p className="muted">
        {t("cliHint")} <code data-testid="draw-cli">{verifyCommand(a.id)}</code>
      </p>
      <p>
        <Link href={`/activities/${a.slug}`}>{t("backToSale")}</Link>
      </p>
    </article>
  );
}
