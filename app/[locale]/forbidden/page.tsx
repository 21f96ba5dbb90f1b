import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { getTranslations } from "next-intl/server";
import type { Locale } from "@/lib/i18n/locales";

// Next.js applies no metadata from forbidden.tsx, so the page that throws forbidden() names it.
export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const { locale } = await params;
  return { title: (await getTranslations({ locale: locale as Locale, namespace: "errors" }))("forbiddenTitle") };
}

// The proxy redirects non-admins here; answering 403 keeps the status honest for API-like clients.
export default function ForbiddenPage() {
  forbidden();
}
