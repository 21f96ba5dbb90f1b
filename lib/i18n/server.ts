import "server-only";
import { getLocale, getTimeZone } from "next-intl/server";
import { formatter, type Formatter } from "@/lib/format";

/** useFormat() for server components: the page's locale, the shop's zone. */
export async function getFormat(): Promise<Formatter> {
  return formatter(await getLocale(), await getTimeZone());
}
