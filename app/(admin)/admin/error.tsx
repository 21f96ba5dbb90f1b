"use client";

import { ErrorView, type ErrorProps } from "@/components/layout/error-view";

// The admin's boundary: the admin navigation stays, only the failing page is replaced.
export default function AdminError(props: ErrorProps) {
  return <ErrorView {...props} title="This admin page failed" home={{ href: "/admin", label: "Back to the sales" }} />;
}
