"use client";

import { usePathname } from "next/navigation";
import { useTranslations } from "next-intl";
import { useEffect, useRef, type ReactNode } from "react";

/**
 * The header's links and account menu. Below 640 px they fold behind a native <details> disclosure
 * (works without JavaScript); at wider sizes the CSS shows them inline and hides the toggle.
 */
export function SiteMenu({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLDetailsElement>(null);
  const pathname = usePathname();
  const t = useTranslations("layout");
  // A link inside the menu navigates without reloading the layout: fold the menu again.
  useEffect(() => {
    if (ref.current) ref.current.open = false;
  }, [pathname]);
  return (
    <details ref={ref} className="site-menu">
      <summary className="btn small" data-testid="menu-toggle">
        {t("menu")}
      </summary>
      <div className="site-menu-panel">{children}</div>
    </details>
  );
}
