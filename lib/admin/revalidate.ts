import "server-only";
import { revalidatePath } from "next/cache";
import { after } from "next/server";
import { locales } from "@/lib/i18n/locales";

/**
 * How long after an admin change its pages are revalidated a second time: longer than a page rebuild
 * takes on a busy server (a few hundred ms; seconds beside a CPU hog).
 */
export const REBUILD_RACE_MS = 5_000;

/**
 * Refreshes the static storefront pages an admin change shows on: the home page and each
 * activity's page (ISR), in every locale (the proxy serves /x from /<locale>/x). Called by the
 * actions and route handlers, not by lib/admin's domain functions, which also run outside a
 * Next.js request (tests, scripts).
 *
 * Twice: a rebuild that a shopper's request began before the change read the old rows, and if it is
 * stored after the first revalidation it counts as fresh and holds until the page's own revalidate
 * (30 s for the home page, 300 s for a sale's). So the pages are revalidated again once such a rebuild
 * has had time to end, after the answer is sent (next/server's after): the cache-aside "delayed double
 * delete". Seen in the e2e suite beside a CPU hog: a sale created through the admin API missing from
 * the home page for 15 s.
 */
export function revalidateStorefront(slugs: string[] = []): void {
  const paths = storefrontPaths(slugs);
  for (const path of paths) revalidatePath(path);
  after(() => new Promise<void>((r) => setTimeout(r, REBUILD_RACE_MS)).then(() => paths.forEach((path) => revalidatePath(path))));
}

function storefrontPaths(slugs: string[]): string[] {
  const paths: string[] = [];
  for (const locale of locales) {
    paths.push(`/${locale}`);
    for (const slug of new Set(slugs)) paths.push(`/${locale}/activities/${slug}`);
  }
  return paths;
}
