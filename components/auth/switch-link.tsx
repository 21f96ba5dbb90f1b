"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import type { ReactNode } from "react";
import { safeRedirectPath } from "@/lib/http/safe-redirect";

/** A link between sign-in and sign-up that carries the page the shopper came from. */
export function AuthSwitchLink({ href, children }: { href: "/sign-in" | "/sign-up"; children: ReactNode }) {
  const callbackUrl = safeRedirectPath(useSearchParams().get("callbackUrl"), "");
  const target = callbackUrl ? `${href}?callbackUrl=${encodeURIComponent(callbackUrl)}` : href;
  return <Link href={target}>{children}</Link>;
}
