import type { Locale } from "@/lib/i18n/locales";
import type messages from "@/messages/en.json";

// Message keys and locales are checked by the compiler: t("shop.missing") does not type-check.
declare module "next-intl" {
  interface AppConfig {
    Locale: Locale;
    Messages: typeof messages;
  }
}
