"use client";

import Link from "next/link";
import { signOut, useSession } from "next-auth/react";
import { useTranslations } from "next-intl";

// Loaded after hydration so that cached pages carry no per-user data.
export function UserMenu() {
  const { data, status } = useSession();
  const t = useTranslations("layout");
  if (status === "loading") return <div className="user-menu" aria-busy="true" />;
  if (!data?.user) {
    return (
      <div className="user-menu">
        <Link href="/sign-in">{t("signIn")}</Link>
        <Link href="/sign-up" className="btn small">
          {t("signUp")}
        </Link>
      </div>
    );
  }
  return (
    <div className="user-menu">
      {data.user.role === "ADMIN" && <Link href="/admin">{t("admin")}</Link>}
      <Link href="/orders">{t("myOrders")}</Link>
      <span className="muted" data-testid="signed-in-as">
        {data.user.email}
      </span>
      <button type="button" className="btn small" onClick={() => void signOut({ callbackUrl: "/" })}>
        {t("signOut")}
      </button>
    </div>
  );
}
