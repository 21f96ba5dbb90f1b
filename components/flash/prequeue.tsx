"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTranslations } from "next-intl";
import { LocalTime } from "@/components/i18n/format";
import { fetchPrequeue, joinPrequeue } from "@/components/flash/api";

// Fair entry on the sale page (docs/fair-entry.md): the pre-queue's window and commitment, the
// shopper's pseudonymous entry, and after the start their drawn place, with a link to verify the draw.

export const prequeueQueryKey = (activityId: string) => ["prequeue", activityId] as const;

export function PrequeuePanel({ activityId, slug, now, startMs }: { activityId: string; slug: string; now: number; startMs: number }) {
  const t = useTranslations("fair");
  const queryClient = useQueryClient();
  const key = prequeueQueryKey(activityId);
  const view = useQuery({
    queryKey: key,
    queryFn: () => fetchPrequeue(activityId),
    // Until the draw is made: the entry count grows, and at the start the drawn place arrives.
    refetchInterval: (q) => (q.state.data && "drawn" in q.state.data && q.state.data.drawn ? false : now >= startMs ? 1_000 : 5_000),
  });
  const join = useMutation({
    mutationFn: () => joinPrequeue(activityId),
    onSettled: () => queryClient.invalidateQueries({ queryKey: key }),
  });
  const v = view.data;
  if (!v || "code" in v) return null;
  const open = now >= Date.parse(v.opensAt) && now < Date.parse(v.closesAt) && !v.drawn;
  const e = v.entry;
  const joinRefused = join.data && "code" in join.data ? join.data.code : null;
  return (
    <section className="prequeue" data-testid="prequeue" aria-label={t("title")}>
      <h2 className="prequeue-title">{t("title")}</h2>
      {!e && !v.drawn && now < Date.parse(v.opensAt) && (
        <p className="muted" data-testid="prequeue-opens">
          {t.rich("opensAt", { time: () => <LocalTime value={v.opensAt} /> })}
        </p>
      )}
      {!e && open && (
        <button type="button" className="btn" data-testid="prequeue-join" disabled={join.isPending} onClick={() => join.mutate()}>
          {t("join")}
        </button>
      )}
      {joinRefused && (
        <p className="alert" role="status">
          {t(`refusal.${joinRefused}`)}
        </p>
      )}
      {e && (
        <p data-testid="prequeue-entry" data-entry={e.entryId}>
          {t("joined", { entry: e.entryId, count: v.entries })}
        </p>
      )}
      {e && v.drawn && e.position !== null && (
        <p className="alert info" data-testid="prequeue-position" data-position={e.position} data-sequence={e.sequence ?? undefined}>
          {t("position", { position: e.position, count: v.entries })}{" "}
          {e.reserved > 0 && v.holdUntil
            ? t.rich("held", { units: e.reserved, time: () => <LocalTime value={v.holdUntil!} /> })
            : t("notHeld")}
        </p>
      )}
      {e && !v.drawn && now >= startMs && <p className="muted">{t("drawing")}</p>}
      {!e && v.drawn && <p className="muted">{t("closed")}</p>}
      <p className="muted small">
        {t("rule")}{" "}
        <span data-testid="draw-commitment" className="mono">
          {t("commitment", { commitment: v.commitment })}
        </span>{" "}
        <Link href={`/activities/${slug}/draw`} data-testid="draw-link">
          {t(v.drawn ? "verify" : "howVerify")}
        </Link>
      </p>
    </section>
  );
}
