import { getRequestConfig } from "next-intl/server";
import { isLocale } from "@/lib/i18n/locales";
import { catalogues } from "@/lib/i18n/messages";
import { defaultLocale, shopTimeZone } from "@/lib/i18n/routing";

// next-intl's per-request configuration (server components, actions, route handlers). The locale comes
// from the [locale] segment the proxy rewrote to; outside a page (an action) from the same negotiation.
// Times render in the shop's zone on the server; components/i18n/time.tsx moves them to the viewer's.
export default getRequestConfig(async ({ requestLocale }) => {
  const requested = await requestLocale;
  const locale = isLocale(requested) ? requested : defaultLocale;
  return { locale, messages: catalogues[locale], timeZone: shopTimeZone };
});
