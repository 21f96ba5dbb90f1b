"use client";

import Link from "next/link";
import { useTranslations } from "next-intl";

// A client component: it takes its words from the layout's message provider, so a not-found inside a
// static page (a missing sale) does not read the request's headers and turn the page dynamic.
// Its title comes from the page that called notFound() (Next.js applies no metadata from here).
export default function NotFound() {
  const t = useTranslations("errors");
  return (
    <div className="card">
      <h1>{t("notFound")}</h1>
      <p className="muted">{t("notFoundText")}</p>
      <Link href="/">{t("backToShop")}</Link>
    </div>
  );
}
