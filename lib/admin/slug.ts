import { randomBytes } from "node:crypto";

/** A URL slug from a title: ASCII words joined by dashes plus a random suffix, so it is unique without a lookup. */
export function slugFrom(title: string, fallback: string): string {
  const base = title
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
  return `${base || fallback}-${randomBytes(4).toString("hex")}`;
}
