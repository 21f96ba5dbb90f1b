"use client";

import { NextIntlClientProvider, useTranslations } from "next-intl";
import { ErrorView, type ErrorProps } from "@/components/layout/error-view";
import { defaultClientLocale } from "@/lib/i18n/locales";
import en from "@/messages/en.json";
import zhCN from "@/messages/zh-CN.json";
import "./globals.css";

// Replaces the root layout (and its message provider) when the layout itself fails, so it brings its
// own <html>, styles and messages; shown only in the browser, so the browser's language picks them.
export default function GlobalError(props: ErrorProps) {
  const locale = defaultClientLocale();
  return (
    <html lang={locale}>
      <body>
        <main>
          <NextIntlClientProvider locale={locale} messages={locale === "en" ? en : zhCN} timeZone="UTC">
            <GlobalErrorView {...props} />
          </NextIntlClientProvider>
        </main>
      </body>
    </html>
  );
}

function GlobalErrorView(props: ErrorProps) {
  const t = useTranslations("errors");
  return <ErrorView {...props} title={t("shopUnavailable")} home={{ href: "/", label: t("reloadShop") }} />;
}
