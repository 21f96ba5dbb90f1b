"use client";

import Link from "next/link";
import { useEffect } from "react";
import { useTranslations } from "next-intl";

export type ErrorProps = { error: Error & { digest?: string }; retry: () => void };

/**
 * What an error boundary shows: a short message, "try again" (re-fetches the segment) and a way
 * out. Never the error's own message: in production Next replaces it, and it is not for shoppers.
 */
export function ErrorView({
  error,
  retry,
  title,
  home,
}: ErrorProps & { title: string; home: { href: string; label: string } }) {
  const t = useTranslations("errors");
  useEffect(() => {
    // The browser's console is the only log a client component has; the digest matches the server's line.
    console.error(error);
  }, [error]);
  return (
    <div className="card" role="alert" data-testid="error-boundary">
      <h1>{title}</h1>
      <p className="muted">
        {t("tryLater")} {error.digest ? t("reference", { digest: error.digest }) : null}
      </p>
      <p>
        <button type="button" className="btn primary" onClick={retry}>
          {t("tryAgain")}
        </button>{" "}
        <Link href={home.href}>{home.label}</Link>
      </p>
    </div>
  );
}
