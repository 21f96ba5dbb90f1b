"use client";

import { ErrorView, type ErrorProps } from "@/components/layout/error-view";
import "./globals.css";

// Replaces the root layout when the layout itself fails, so it brings its own <html> and styles.
export default function GlobalError(props: ErrorProps) {
  return (
    <html lang="en">
      <body>
        <main>
          <ErrorView {...props} title="The shop is unavailable" home={{ href: "/", label: "Reload the shop" }} />
        </main>
      </body>
    </html>
  );
}
