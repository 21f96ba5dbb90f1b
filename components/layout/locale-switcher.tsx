"use client";

import { useLocale, useTranslations } from "next-intl";
import { locales, rememberLocale, type Locale } from "@/lib/i18n/locales";

/**
 * The language switch: remembers the choice in a cookie the proxy reads before Accept-Language,
 * then reloads so every cached page and the <html lang> come in the new language.
 */
export function LocaleSwitcher() {
  const current = useLocale();
  const t = useTranslations("layout");
  function choose(locale: Locale) {
    rememberLocale(locale);
    window.location.reload();
  }
  return (
    <div className="locale-switcher" role="group" aria-label={t("language")}>
      {locales.map((locale) => (
        <button
          key={locale}
          type="button"
          className="btn small"
          lang={locale}
          aria-pressed={locale === current}
          disabled={locale === current}
          onClick={() => choose(locale)}
          data-testid={`locale-${locale}`}
        >
          {t(`languageName.${locale}`)}
        </button>
      ))}
    </div>
  );
}
