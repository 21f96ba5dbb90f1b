"use client";

import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useSyncExternalStore } from "react";
import { REFUSAL_CODES, type RefusalCode } from "@/lib/flash/codes";
import type { MissTrace, OwnTicket, ShopperState } from "@/lib/flash/wire";
import { fetchMe } from "@/components/flash/api";

// The shopper's own state in a sale, from the server (GET /api/activities/{id}/me): what a reload,
// a second tab or another device shows. Nothing of it is in the static page.

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
  const t = useTranslations("buy.shopper");
  return (
    <p className="alert info" role="status" data-testid="offline-note">
      {t("offline")}
    </p>
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const isRefusal = (code: string): code is RefusalCode => (REFUSAL_CODES as readonly string[]).includes(code);

/** The shopper's own trace next to the sell-out point, for someone who missed out. */
export function WhyNot({ trace, rejectedCode }: { trace: MissTrace; rejectedCode?: string }) {
  const t = useTranslations("buy");
  const since = (iso: string) => t("shopper.sinceStart", { seconds: seconds(Date.parse(iso) - Date.parse(trace.startAt)) });
  const reason = (code: string) => (isRefusal(code) ? t(`refusal.${code}`) : code);
  const at = since(trace.at);
  const gap = trace.lastUnit ? Date.parse(trace.at) - Date.parse(trace.lastUnit.at) : null;
  return (
    <details className="why-not" open data-testid="why-not">
      <summary>{t("shopper.whyTitle")}</summary>
      <p data-testid="why-last-unit">
        {trace.lastUnit
          ? t("shopper.lastUnit", { sequence: trace.lastUnit.sequence, at: since(trace.lastUnit.at) })
          : t("shopper.neverSoldOut")}
      </p>
      <p data-testid="why-you" data-outcome={trace.outcome}>
        {trace.outcome === "ADMITTED" && trace.sequence !== null
          ? t("shopper.youAdmitted", { sequence: trace.sequence, at })
          : t("shopper.youRefused", { at, reason: reason(trace.outcome) })}{" "}
        {trace.outcome === "SOLD_OUT" && gap !== null && gap >= 0 ? t("shopper.afterLast", { seconds: seconds(gap) }) : null}
        {rejectedCode ? t("shopper.rejected", { reason: reason(rejectedCode) }) : null}
      </p>
    </details>
  );
}
