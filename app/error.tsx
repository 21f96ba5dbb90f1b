"use client";

import { ErrorView, type ErrorProps } from "@/components/layout/error-view";

// The shop's boundary: the header and footer of the root layout stay, only the page is replaced.
export default function ShopError(props: ErrorProps) {
  return <ErrorView {...props} title="Something went wrong" home={{ href: "/", label: "Back to the shop" }} />;
}
