"use client";

import { useLocale, useTimeZone } from "next-intl";
import { useMemo, useSyncExternalStore } from "react";
import { formatDateTime, formatter, type Formatter } from "@/lib/format";

/** Money and times in the page's locale and the shop's zone (the same on the server and in the browser). */
/** The shop's zone (SHOP_TIME_ZONE), which the layout gives the message provider. */
export function useShopTimeZone(): string {
  return useTimeZone() ?? "UTC";
}

export function useFormat(): Formatter {
  const locale = useLocale();
  const timeZone = useShopTimeZone();
  return useMemo(() => formatter(locale, timeZone), [locale, timeZone]);
}

const noSubscription = () => () => {};
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * The viewer's time zone once hydrated; the shop's zone in the server's HTML and while hydrating,
 * so the two renders agree (no hydration mismatch) and the text then moves to the viewer's zone.
 */
export function useViewerTimeZone(): string {
  const shop = useShopTimeZone();
  return useSyncExternalStore(noSubscription, browserZone, () => shop);
}

/** An instant with date, time and zone label, in the viewer's zone (the shop's before hydration). */
export function LocalTime({ value }: { value: string | Date }) {
  const locale = useLocale();
  const zone = useViewerTimeZone();
  const iso = typeof value === "string" ? value : value.toISOString();
  return <time dateTime={iso}>{formatDateTime(iso, locale, zone)}</time>;
}
