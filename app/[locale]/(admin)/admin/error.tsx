"use client";

import { useTranslations } from "next-intl";
import { ErrorView, type ErrorProps } from "@/components/layout/error-view";

// The admin's boundary: the admin navigation stays, only the failing page is replaced.
export default function AdminError(props: ErrorProps) {
  const t = useTranslations("errors");
  return <ErrorView {...props} title={t("adminFailed")} home={{ href: "/admin", label: t("backToSales") }} />;
}
