import "server-only";
import { createTranslator } from "next-intl";
import { isLocale, type Locale } from "@/lib/i18n/locales";
import { defaultLocale } from "@/lib/i18n/routing";
import en from "@/messages/en.json";
import zhCN from "@/messages/zh-CN.json";

export const catalogues = { "zh-CN": zhCN, en } as const;

/** The header next-intl's middleware (proxy.ts) sets on every page request and server action. */
const LOCALE_HEADER = "x-next-intl-locale";

/** The locale of a request the proxy saw; DEFAULT_LOCALE for any other caller (scripts, tests). */
export function localeOf(headers: Headers): Locale {
  const v = headers.get(LOCALE_HEADER);
  return isLocale(v) ? v : defaultLocale;
}

/** A translator outside React (mail): the same catalogue and ICU formatting as the pages. */
export function translator<N extends "mail">(locale: Locale, namespace: N) {
  return createTranslator({ locale, messages: catalogues[locale], namespace });
}
