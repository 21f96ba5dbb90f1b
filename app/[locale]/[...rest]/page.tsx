import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getTranslations } from "next-intl/server";
import type { Locale } from "@/lib/i18n/locales";

// Next.js applies no metadata from not-found.tsx, so the page that throws notFound() names it.
export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const { locale } = await params;
  return { title: (await getTranslations({ locale: locale as Locale, namespace: "errors" }))("notFoundTitle") };
}

// Any path no page answers: the localized not-found page (the proxy rewrote it under /<locale>).
export default function CatchAll() {
  notFound();
}
