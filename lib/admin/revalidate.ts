import "server-only";
import { revalidatePath } from "next/cache";
import { locales } from "@/lib/i18n/locales";

/**
 * Refreshes the static storefront pages an admin change shows on: the home page and each
 * activity's page (ISR), in every locale (the proxy serves /x from /<locale>/x). Called by the
 * actions and route handlers, not by lib/admin's domain functions, which also run outside a
 * Next.js request (tests, scripts).
 */
export function revalidateStorefront(slugs: string[] = []): void {
  for (const locale of locales) {
    revalidatePath(`/${locale}`);
    for (const slug of new Set(slugs)) revalidatePath(`/${locale}/activities/${slug}`);
  }
}
