import "server-only";
import { defineRouting } from "next-intl/routing";
import { parseSettings } from "@/lib/env";
import { LOCALE_COOKIE, locales } from "@/lib/i18n/locales";

const settings = parseSettings();

/** The shop's fallback language and time zone (DEFAULT_LOCALE, SHOP_TIME_ZONE in lib/env.ts). */
export const defaultLocale = settings.DEFAULT_LOCALE;
export const shopTimeZone = settings.SHOP_TIME_ZONE;

/**
 * The locale is never in the public URL: the proxy picks it (cookie, then Accept-Language, then
 * DEFAULT_LOCALE) and rewrites /x to /<locale>/x, so every page is still rendered statically once per
 * locale (see docs/i18n.md for the CDN cache key).
 */
export const routing = defineRouting({
  locales,
  defaultLocale,
  localePrefix: "never",
  localeCookie: { name: LOCALE_COOKIE, maxAge: 365 * 86_400, sameSite: "lax" },
  alternateLinks: false,
});
