import "server-only";
import { revalidatePath } from "next/cache";

/**
 * Refreshes the static storefront pages an admin change shows on: the home page and each
 * activity's page (ISR). Called by the actions and route handlers, not by lib/admin's domain
 * functions, which also run outside a Next.js request (tests, scripts).
 */
export function revalidateStorefront(slugs: string[] = []): void {
  revalidatePath("/");
  for (const slug of new Set(slugs)) revalidatePath(`/activities/${slug}`);
}
