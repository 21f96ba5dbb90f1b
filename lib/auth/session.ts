import "server-only";
import { getServerSession } from "next-auth";
import { cache } from "react";
import { redirect, forbidden } from "next/navigation";
import { authOptions } from "@/lib/auth/options";

/** The session's user, read once per request however many layouts and pages ask. */
export const currentUser = cache(async () => {
  const session = await getServerSession(authOptions());
  return session?.user ?? null;
});

/** For admin pages and actions: sign-in first, then 403 for anyone who is not an admin. */
export async function requireAdmin(from = "/admin") {
  const user = await currentUser();
  if (!user) redirect(`/sign-in?callbackUrl=${encodeURIComponent(from)}`);
  if (user.role !== "ADMIN") forbidden();
  return user;
}

export async function requireShopper(from = "/") {
  const user = await currentUser();
  if (!user) redirect(`/sign-in?callbackUrl=${encodeURIComponent(from)}`);
  return user;
}
