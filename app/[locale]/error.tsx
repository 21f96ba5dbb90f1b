"use client";

import { useTranslations } from "next-intl";
import { ErrorView, type ErrorProps } from "@/components/layout/error-view";

// The shop's boundary: the header and footer of the root layout stay, only the page is replaced.
export default function ShopError(props: ErrorProps) {
  const t = useTranslations("errors");
  return <ErrorView {...props} title={t("somethingWrong")} home={{ href: "/", label: t("backToShop") }} />;
}
