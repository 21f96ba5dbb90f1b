"use client";

import Link from "next/link";
import { signOut, useSession } from "next-auth/react";

// Loaded after hydration so that cached pages carry no per-user data.
export function UserMenu() {
  const { data, status } = useSession();
  if (status === "loading") return <div className="user-menu" aria-busy="true" />;
  if (!data?.user) {
    return (
      <div className="user-menu">
        <Link href="/sign-in">Sign in</Link>
        <Link href="/sign-up" className="btn small">
          Sign up
        </Link>
      </div>
    );
  }
  return (
    <div className="user-menu">
      {data.user.role === "ADMIN" && <Link href="/admin">Admin</Link>}
      <Link href="/orders">My orders</Link>
      <span className="muted" data-testid="signed-in-as">
        {data.user.email}
      </span>
      <button type="button" className="btn small" onClick={() => void signOut({ callbackUrl: "/" })}>
        Sign out
      </button>
    </div>
  );
}
