"use client";

import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useDeferredValue, useState } from "react";
import { LocalTime } from "@/components/i18n/format";
import { fetchDraw } from "@/components/flash/api";
import { verifyDraw } from "@/lib/flash/draw-proof";

// Shows a sale's published draw and recomputes it here, in the browser, with the same code the shop
// drew with (lib/flash/draw-proof.ts): nothing but the published record is trusted.

const SHOWN = 200;

export function DrawVerifier({ activityId }: { activityId: string }) {
  const t = useTranslations("fair");
  const [filter, setFilter] = useState("");
  const wanted = useDeferredValue(filter.trim());
  const draw = useQuery({
    queryKey: ["draw", activityId],
    queryFn: () => fetchDraw(activityId),
    refetchInterval: (q) => (q.state.data?.drawnAt ? false : 5_000),
  });
  const d = draw.data;
  const check = useQuery({
    queryKey: ["draw-check", activityId, d?.drawnAt ?? null],
    queryFn: () => verifyDraw(d!),
    enabled: Boolean(d?.drawnAt),
    staleTime: Infinity,
  });
  if (!d) return <p className="muted">{draw.isError ? t("unavailable") : t("loading")}</p>;
  const rows = wanted ? d.entries.filter((e) => e.entryId.includes(wanted)) : d.entries;
  const ok = check.data && check.data.problems.length === 0;
  return (
    <div data-testid="draw-verifier">
      <dl className="draw-facts">
        <dt>{t("commitmentLabel")}</dt>
        <dd className="mono" data-testid="draw-commitment-full">{d.commitment}</dd>
        <dt>{t("drawAtLabel")}</dt>
        <dd>
          <LocalTime value={d.drawAt} />
        </dd>
        <dt>{t("seedLabel")}</dt>
        <dd className="mono" data-testid="draw-seed">{d.seed ?? t("seedHidden")}</dd>
        <dt>{t("entriesLabel")}</dt>
        <dd data-testid="draw-count">{d.entryCount}</dd>
      </dl>
      {d.drawnAt && (
        <p className={!check.data ? "alert info" : ok ? "alert ok" : "alert"} data-testid="draw-result" data-ok={check.data ? String(ok) : undefined}>
          {check.isError
            ? t("noCrypto")
            : !check.data
            ? t("checking")
            : ok
              ? t("checkOk", { count: d.entryCount })
              : t("checkFail", { problems: check.data.problems.join(", "), count: check.data.mismatched.length })}
        </p>
      )}
      {d.drawnAt && (
        <>
          <label>
            {t("findEntry")} <input value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="draw-filter" />
          </label>
          <table className="draw-table" data-testid="draw-table">
            <thead>
              <tr>
                <th>{t("positionLabel")}</th>
                <th>{t("entryLabel")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, SHOWN).map((e) => (
                <tr key={e.entryId} data-entry={e.entryId}>
                  <td>{e.position}</td>
                  <td className="mono">{e.entryId}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length > SHOWN && <p className="muted">{t("more", { count: rows.length - SHOWN })}</p>}
        </>
      )}
    </div>
  );
}
