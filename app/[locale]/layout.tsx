import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { hasLocale, NextIntlClientProvider } from "next-intl";
import { getTranslations, setRequestLocale } from "next-intl/server";
import type { ReactNode } from "react";
import { Providers } from "@/components/providers/providers";
import { LocaleSwitcher } from "@/components/layout/locale-switcher";
import { SiteMenu } from "@/components/layout/site-menu";
import { UserMenu } from "@/components/layout/user-menu";
import { locales } from "@/lib/i18n/locales";
import "../globals.css";

type Props = { children: ReactNode; params: Promise<{ locale: string }> };

// One static rendering per locale: the proxy rewrites /x to /<locale>/x (lib/i18n/routing.ts).
export function generateStaticParams() {
  return locales.map((locale) => ({ locale }));
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { locale } = await params;
  if (!hasLocale(locales, locale)) return {};
  const t = await getTranslations({ locale, namespace: "layout" });
  return { title: { default: t("siteName"), template: `%s · ${t("siteName")}` }, description: t("description") };
}

export default async function RootLayout({ children, params }: Props) {
  const { locale } = await params;
  if (!hasLocale(locales, locale)) notFound();
  setRequestLocale(locale);
  const t = await getTranslations("layout");
  return (
    <html lang={locale}>
      <body>
        <NextIntlClientProvider>
          <Providers>
            <header className="site-header">
              <div className="inner">
                <Link href="/" className="brand">
                  {t("brand")}
                </Link>
                <SiteMenu>
                  <nav aria-label={t("mainNav")}>
                    <Link href="/">{t("sales")}</Link>
                  </nav>
                  <UserMenu />
                  <LocaleSwitcher />
                </SiteMenu>
              </div>
            </header>
            <main>{children}</main>
            <footer className="site-footer">{t("footer")}</footer>
          </Providers>
        </NextIntlClientProvider>
      </body>
    </html>
  );
}
