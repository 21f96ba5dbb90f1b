// The languages the shop speaks; shared by the proxy, the server and the browser (no env here).
export const locales = ["zh-CN", "en"] as const;
export type Locale = (typeof locales)[number];

/** Set by the language switcher; read by the proxy before Accept-Language. */
export const LOCALE_COOKIE = "NEXT_LOCALE";

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (locales as readonly string[]).includes(value);
}

/** In the browser only (error pages outside the provider): the switcher's cookie, else the browser's language. */
export function defaultClientLocale(): Locale {
  if (typeof document === "undefined") return "zh-CN";
  const cookie = new RegExp(`(?:^|; )${LOCALE_COOKIE}=([^;]+)`).exec(document.cookie)?.[1];
  if (isLocale(cookie)) return cookie;
  return navigator.languages.some((l) => l.toLowerCase().startsWith("zh")) || !navigator.language ? "zh-CN" : "en";
}

/** The switcher's choice, kept for a year; the proxy reads it before Accept-Language. */
export function rememberLocale(locale: Locale): void {
  document.cookie = `${LOCALE_COOKIE}=${locale}; path=/; max-age=${365 * 86_400}; samesite=lax`;
}
