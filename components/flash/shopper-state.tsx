"use client";

import { useQuery } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";
import { MESSAGES } from "@/lib/flash/codes";
import type { MissTrace, OwnTicket, ShopperState } from "@/lib/flash/wire";
import { fetchMe } from "@/components/flash/api";

// The shopper's own state in a sale, from the server (GET /api/activities/{id}/me): what a reload,
// a second tab or another device shows. Nothing of it is in the static page.

const TEXT = {
  offline: "Offline — we'll keep checking.",
  whyTitle: "Why didn't I get one?",
  lastUnit: (seq: number, at: string) => `The last unit went to #${seq} at ${at}.`,
  neverSoldOut: "The stock never ran out.",
  youAdmitted: (seq: number, at: string) => `You were #${seq} in the queue at ${at}.`,
  youRefused: (at: string, reason: string) => `Your click reached us at ${at} and was refused: ${reason}`,
  afterLast: (s: string) => `That was ${s} after the last unit was taken.`,
  rejected: (reason: string) => `Your order could not be completed: ${reason}`,
};

export const meQueryKey = (activityId: string) => ["me", activityId] as const;

/** The shopper's state; asked on load and on focus, and again by whoever changes it (a buy, a final answer). */
export function useShopperState(activityId: string, signedIn: boolean) {
  return useQuery({
    queryKey: meQueryKey(activityId),
    queryFn: () => fetchMe(activityId),
    enabled: signedIn,
    refetchOnWindowFocus: true,
    // A queued ticket's place comes from the shared progress; this only confirms the answer now and then.
    refetchInterval: (q) => (q.state.data?.tickets.some((t) => t.status === "QUEUED") ? 5_000 : false),
  });
}

/**
 * The ticket the panel shows: one still queued, else the latest confirmed, else the latest
 * refused (tickets come in admission order).
 */
export function currentTicket(state: ShopperState | null | undefined): OwnTicket | null {
  const tickets = state?.tickets ?? [];
  return (
    tickets.find((t) => t.status === "QUEUED") ??
    tickets.findLast((t) => t.status === "CONFIRMED") ??
    tickets.at(-1) ??
    null
  );
}

const subscribeOnline = (onChange: () => void) => {
  window.addEventListener("online", onChange);
  window.addEventListener("offline", onChange);
  return () => {
    window.removeEventListener("online", onChange);
    window.removeEventListener("offline", onChange);
  };
};

/** The browser's own idea of being online (true in the server's HTML). */
export function useOnline(): boolean {
  return useSyncExternalStore(subscribeOnline, () => navigator.onLine, () => true);
}

/** Shown while the browser is offline or the live figures fail to arrive; React Query resumes polling by itself. */
export function OfflineNote() {
  return (
    <p className="alert info" role="status" data-testid="offline-note">
      {TEXT.offline}
    </p>
  );
}

/** "+0.61 s" from the sale's start. */
const sinceStart = (iso: string, startAt: string) => `+${((Date.parse(iso) - Date.parse(startAt)) / 1000).toFixed(2)} s`;

/** The shopper's own trace next to the sell-out point, for someone who missed out. */
export function WhyNot({ trace, rejectedCode }: { trace: MissTrace; rejectedCode?: string }) {
  const at = sinceStart(trace.at, trace.startAt);
  const reason = (code: string) => (MESSAGES as Record<string, string>)[code] ?? code;
  const gap = trace.lastUnit ? (Date.parse(trace.at) - Date.parse(trace.lastUnit.at)) / 1000 : null;
  return (
    <details className="why-not" open data-testid="why-not">
      <summary>{TEXT.whyTitle}</summary>
      <p data-testid="why-last-unit">
        {trace.lastUnit ? TEXT.lastUnit(trace.lastUnit.sequence, sinceStart(trace.lastUnit.at, trace.startAt)) : TEXT.neverSoldOut}
      </p>
      <p data-testid="why-you" data-outcome={trace.outcome}>
        {trace.outcome === "ADMITTED" && trace.sequence !== null
          ? TEXT.youAdmitted(trace.sequence, at)
          : TEXT.youRefused(at, reason(trace.outcome))}{" "}
        {trace.outcome === "SOLD_OUT" && gap !== null && gap >= 0 ? TEXT.afterLast(`${gap.toFixed(2)} s`) : null}
        {rejectedCode ? TEXT.rejected(reason(rejectedCode)) : null}
      </p>
    </details>
  );
}
