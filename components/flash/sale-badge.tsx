"use client";

import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useSyncExternalStore } from "react";
import { fetchProgress } from "@/components/flash/api";
import { useServerNow } from "@/components/flash/use-server-clock";
import { saleLabel, type SaleLabel } from "@/lib/flash/sale-label";

const noSubscription = () => () => {};

// The label the page was built with, from the stored status alone.
const RENDERED: Record<string, SaleLabel> = { SCHEDULED: "Upcoming", LIVE: "Live", ENDED: "Ended", CANCELLED: "Cancelled" };
const KEY = {
  Upcoming: "upcoming",
  Live: "live",
  Paused: "paused",
  "Sold out": "soldOut",
  Ended: "ended",
  Cancelled: "cancelled",
} as const satisfies Record<SaleLabel, string>;

/**
 * A sale card's status, kept right between page rebuilds: the live figures (shared with the sale
 * page's query) and the server's clock decide it once the page runs; the HTML carries the rendered one.
 */
export function SaleBadge(p: { activityId: string; status: string; startAt: string; endAt: string }) {
  const hydrated = useSyncExternalStore(noSubscription, () => true, () => false);
  const t = useTranslations("shop.badge");
  const now = useServerNow(1_000);
  const progress = useQuery({
    queryKey: ["progress", p.activityId],
    queryFn: () => fetchProgress(p.activityId),
    // A list of cards polls gently; a closed sale does not change again.
    refetchInterval: (q) => (q.state.data && ["ENDED", "CANCELLED"].includes(q.state.data.status) ? false : 5_000),
  });
  const d = progress.data;
  // Before hydration the clock is not read, so the server's HTML and the first render agree.
  const label = hydrated
    ? saleLabel({
        status: d?.status ?? p.status,
        startMs: Date.parse(d?.startAt ?? p.startAt),
        endMs: Date.parse(d?.endAt ?? p.endAt),
        now,
        paused: d?.paused,
        soldOut: d?.soldOut,
      })
    : RENDERED[p.status] ?? "Upcoming";
  return (
    <span className={label === "Live" ? "badge live" : "badge"} data-testid="sale-badge" data-label={label}>
      {t(KEY[label])}
    </span>
  );
}
