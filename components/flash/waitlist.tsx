"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { LocalTime } from "@/components/i18n/format";
import { Countdown } from "@/components/flash/countdown";
import { fetchWaitlist, joinWaitlist } from "@/components/flash/api";

// The waitlist of a sold-out sale on the sale page (docs/fair-entry.md): join, the place in line, and
// the unit offered when one comes back, with its deadline. The buy button buys the offered unit.

export const waitlistQueryKey = (activityId: string) => ["waitlist", activityId] as const;

export function WaitlistPanel({ activityId, soldOut, now }: { activityId: string; soldOut: boolean; now: number }) {
  const t = useTranslations("waitlist");
  const queryClient = useQueryClient();
  const key = waitlistQueryKey(activityId);
  const view = useQuery({
    queryKey: key,
    queryFn: () => fetchWaitlist(activityId),
    // Waiting: the offer arrives within a second or two of a unit coming back.
    refetchInterval: (q) => (q.state.data && "position" in q.state.data && q.state.data.position !== null ? 2_000 : 10_000),
  });
  const join = useMutation({
    mutationFn: () => joinWaitlist(activityId),
    onSuccess: (data) => queryClient.setQueryData(key, data),
  });
  const v = view.data && "activityId" in view.data ? view.data : null;
  const refused = join.data && "code" in join.data ? join.data.code : null;
  const offerMs = v?.offerUntil ? Date.parse(v.offerUntil) - now : 0;
  if (v && offerMs > 0) {
    return (
      <p className="alert ok" data-testid="waitlist-offer" data-until={v.offerUntil}>
        {t.rich("offer", { time: () => <LocalTime value={v.offerUntil!} /> })} <Countdown ms={offerMs} />
      </p>
    );
  }
  if (v?.position) {
    return (
      <p className="alert info" data-testid="waitlist-position" data-position={v.position}>
        {t("position", { position: v.position, count: v.waiting })}
      </p>
    );
  }
  if (!soldOut) return null;
  return (
    <div data-testid="waitlist">
      <button type="button" className="btn" data-testid="waitlist-join" disabled={join.isPending} onClick={() => join.mutate()}>
        {t("join")}
      </button>
      <p className="muted small">{t("rule")}</p>
      {refused && (
        <p className="alert" role="status" data-testid="waitlist-refused" data-code={refused}>
          {t(`refusal.${refused}`)}
        </p>
      )}
    </div>
  );
}
