"use client";

import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useState, type ReactNode } from "react";
import { DashboardChart, type ChartPoint } from "@/components/admin/dashboard-chart";
import { RunControls } from "@/components/admin/run-controls";
import styles from "@/components/admin/admin.module.css";
import type { DashboardSnapshot } from "@/lib/admin/dashboard";
import { useFormat } from "@/components/i18n/format";
import { formatTick } from "@/lib/format";

type ChartView = "start" | "live";

/** The points a view shows: a window around the start (the burst fills the width) or the last five minutes. */
function windowOf(points: ChartPoint[], view: ChartView, s: DashboardSnapshot): ChartPoint[] {
  if (view === "live") return points.filter((p) => p.at >= s.at - LIVE_WINDOW_MS);
  const start = Date.parse(s.activity.startAt);
  const soldOut = s.redis?.soldOutAt ?? s.db.soldOutAt;
  const until = Math.max(start + AFTER_START_MS, soldOut ? Date.parse(soldOut) + AFTER_SOLD_OUT_MS : 0);
  return points.filter((p) => p.at >= start - BEFORE_START_MS && p.at <= until);
}

/** One point a second for an hour: enough to keep the start in view after a long sale. */
const HISTORY = 3600;
/** The "around the start" view: from a little before the start to a while after the stock ran out. */
const BEFORE_START_MS = 30_000;
const AFTER_START_MS = 120_000;
const AFTER_SOLD_OUT_MS = 30_000;
/** The "live" view: the last five minutes. */
const LIVE_WINDOW_MS = 300_000;

async function fetchDashboard(activityId: string): Promise<DashboardSnapshot> {
  const res = await fetch(`/api/admin/activities/${activityId}/dashboard`, { cache: "no-store" });
  if (!res.ok) throw new Error(`dashboard ${res.status}`);
  return (await res.json()) as DashboardSnapshot;
}

/** Rates between two snapshots: the counters only grow, so a difference over the interval is a rate. */
function rates(prev: DashboardSnapshot | null, next: DashboardSnapshot) {
  const dt = prev ? (next.at - prev.at) / 1000 : 0;
  const per = (a: number, b: number) => (dt > 0 ? Math.max(0, (b - a) / dt) : 0);
  const byReason: Record<string, number> = {};
  for (const [code, n] of Object.entries(next.counters.refused))
    byReason[code] = per(prev?.counters.refused[code] ?? n, n);
  return {
    admitted: per(prev?.counters.admitted ?? next.counters.admitted, next.counters.admitted),
    refused: per(prev?.counters.refusedTotal ?? next.counters.refusedTotal, next.counters.refusedTotal),
    byReason,
  };
}

const round = (x: number) => (x >= 10 ? Math.round(x) : Math.round(x * 10) / 10);

export function ActivityDashboard({ initial }: { initial: DashboardSnapshot }) {
  const activityId = initial.activity.id;
  const { data, isError } = useQuery({
    queryKey: ["admin-dashboard", activityId],
    queryFn: () => fetchDashboard(activityId),
    initialData: initial,
    refetchInterval: 1_000,
    refetchIntervalInBackground: true,
  });
  const [last, setLast] = useState<DashboardSnapshot | null>(null);
  const [history, setHistory] = useState<ChartPoint[]>([]);
  const [rate, setRate] = useState(() => rates(null, initial));
  // The highest p95 seen while the sale ran: latency reports go stale seconds after the burst, the figure must not.
  const [peakP95, setPeakP95] = useState<number | null>(null);
  const [view, setView] = useState<ChartView>("live");
  const t = useTranslations("admin");
  const f = useFormat();
  // A new snapshot extends the history once (React's "adjust state during render" pattern).
  if (data.at !== last?.at) {
    const r = rates(last, data);
    setLast(data);
    setRate(r);
    const p95 = data.latency.p95Ms;
    const selling = data.at >= Date.parse(data.activity.startAt) && data.at < Date.parse(data.activity.endAt);
    if (p95 !== null && selling && p95 > (peakP95 ?? -1)) setPeakP95(p95);
    setHistory((h) => [
      ...h.slice(-(HISTORY - 1)),
      {
        at: data.at,
        t: formatTick(data.at, f.timeZone),
        admitted: round(r.admitted),
        refused: round(r.refused),
        stockLeft: data.redis?.stockLeft ?? data.db.stock,
        queue: data.redis?.queueTickets ?? 0,
        p95: data.latency.p95Ms,
      },
    ]);
  }

  const s = data;
  const reasons = Object.entries(s.counters.refused).sort((a, b) => b[1] - a[1]);
  const balance = s.conservation;
  const shownP95 = peakP95 ?? s.latency.p95Ms;
  return (
    <div>
      <p aria-live="polite" data-testid="dash-state">
        <span className={s.activity.status === "LIVE" ? "badge live" : "badge"}>
          {t(`activityStatus.${s.activity.status as "LIVE"}`)}
        </span>{" "}
        {s.activity.paused && (
          <span className="badge" data-testid="dash-paused">
            {t("dashboard.paused")}
          </span>
        )}{" "}
        {!s.redis && <span className="muted">{t("dashboard.notPreheated")}</span>}
        {isError && <span className="field-error"> {t("dashboard.notUpdating")}</span>}
      </p>

      <RunControls
        activityId={activityId}
        status={s.activity.status}
        paused={s.activity.paused}
        startAt={s.activity.startAt}
        serverNow={s.at}
      />

      <dl className={styles.figures}>
        <Figure label={t("dashboard.stockLeft")} testId="dash-stock-left" value={s.redis ? s.redis.stockLeft : "—"}>
          {t("dashboard.ofSellable", { n: s.activity.sellable })}
        </Figure>
        <Figure label={t("dashboard.stockPg")} testId="dash-stock-pg" value={s.db.stock}>
          {t("dashboard.notInOrders")}
        </Figure>
        <Figure label={t("dashboard.sold")} testId="dash-sold" value={s.db.holdingUnits}>
          <span data-testid="dash-orders">{s.db.holdingOrders}</span> {t("dashboard.holding")}
        </Figure>
        <Figure label={t("dashboard.paid")} testId="dash-paid" value={s.db.byStatus.PAID?.orders ?? 0}>
          <span data-testid="dash-pending">{s.db.byStatus.PENDING_PAYMENT?.orders ?? 0}</span> {t("dashboard.pending")} ·{" "}
          <span data-testid="dash-expired">{s.db.byStatus.EXPIRED?.orders ?? 0}</span> {t("dashboard.expired")} ·{" "}
          <span data-testid="dash-refunded">{s.db.byStatus.REFUNDED?.orders ?? 0}</span> {t("dashboard.refunded")} ·{" "}
          {t("dashboard.cancelled", { n: s.db.byStatus.CANCELLED?.orders ?? 0 })}
        </Figure>
        <Figure label={t("dashboard.queue")} testId="dash-queue" value={s.redis ? s.redis.queueTickets : 0}>
          {t("dashboard.queueDetail", { units: s.redis?.queueUnits ?? 0 })}
        </Figure>
        <Figure label={t("dashboard.confirmed")} testId="dash-confirmed" value={s.counters.confirmed}>
          {t("dashboard.rejected", { n: s.counters.rejected })}
        </Figure>
        <Figure label={t("dashboard.admittedRate")} testId="dash-admitted-rate" value={round(rate.admitted)}>
          {t("dashboard.inTotal", { n: s.counters.admitted })}
        </Figure>
        <Figure label={t("dashboard.refusedRate")} testId="dash-refused-rate" value={round(rate.refused)}>
          {t("dashboard.inTotal", { n: s.counters.refusedTotal })}
        </Figure>
        <Figure label={t("dashboard.soldOutAt")} testId="dash-sold-out" value={f.clock(s.redis?.soldOutAt ?? s.db.soldOutAt)} />
        <Figure label={t("dashboard.lag")} testId="dash-lag" value={s.worker ? (s.worker.lag ?? "?") : "—"}>
          {s.worker
            ? t("dashboard.workerDetail", { pending: s.worker.pending, consumers: s.worker.consumers })
            : t("dashboard.noGroup")}
        </Figure>
        <Figure label={t("dashboard.p95")} testId="dash-p95" value={shownP95 === null ? "—" : `${shownP95} ms`}>
          {t("dashboard.p95Detail", { processes: s.latency.processes, samples: s.latency.samples })}
          {peakP95 !== null && <> · {t("dashboard.p95Held")}</>}
        </Figure>
      </dl>

      {balance && (
        <p
          data-testid="dash-conservation"
          className={balance.offered === balance.accounted ? styles.ok : balance.settled ? styles.bad : "muted"}
        >
          {t("dashboard.conservation", { offered: balance.offered, accounted: balance.accounted })}
          {t(
            balance.offered === balance.accounted
              ? "dashboard.balanced"
              : balance.settled
                ? "dashboard.mismatch"
                : "dashboard.draining",
          )}
        </p>
      )}

      <div className={styles.chart}>
        <div className={styles.actions} role="group" aria-label={t("dashboard.chartLabel")}>
          {(["start", "live"] as const).map((v) => (
            <button
              key={v}
              type="button"
              className="btn small"
              aria-pressed={view === v}
              disabled={view === v}
              onClick={() => setView(v)}
              data-testid={`chart-view-${v}`}
            >
              {t(v === "start" ? "dashboard.chartStart" : "dashboard.chartLive")}
            </button>
          ))}
        </div>
        <DashboardChart points={windowOf(history, view, s)} timeZone={f.timeZone} />
      </div>

      <h2>{t("dashboard.durability")}</h2>
      <dl className={styles.figures}>
        <Figure label={t("dashboard.epoch")} testId="dash-epoch" value={s.durability.epoch}>
          {t(s.durability.ready ? "dashboard.epochReady" : "dashboard.epochRebuilding")}
        </Figure>
        <Figure label={t("dashboard.deadLetters")} testId="dash-dead-letters" value={s.durability.deadLetters.count}>
          {s.durability.deadLetters.latest[0]
            ? t("dashboard.deadLetterLatest", {
                at: f.dateTime(s.durability.deadLetters.latest[0].at),
                error: s.durability.deadLetters.latest[0].error.slice(0, 80),
              })
            : t("dashboard.none")}
        </Figure>
        <Figure
          label={t("dashboard.lastReconcile")}
          testId="dash-reconcile"
          value={s.durability.reconcile ? f.dateTime(s.durability.reconcile.at) : "—"}
        >
          {s.durability.reconcile
            ? t("dashboard.reconcileDetail", {
                checked: s.durability.reconcile.checked,
                drift: s.durability.reconcile.drift.length,
                repaired: s.durability.reconcile.repaired,
              })
            : t("dashboard.notRunYet")}
        </Figure>
      </dl>

      <h2>{t("dashboard.fairEntry")}</h2>
      <dl className={styles.figures}>
        <Figure label={t("dashboard.draw")} testId="dash-draw" value={s.fair.entries}>
          {s.fair.commitment
            ? t(s.fair.drawnAt ? "dashboard.drawRevealed" : "dashboard.drawCommitted", {
                commitment: s.fair.commitment.slice(0, 16),
                at: s.fair.drawnAt ? f.dateTime(s.fair.drawnAt) : "",
              })
            : t("dashboard.noDraw")}
        </Figure>
        <Figure label={t("dashboard.drawHeld")} testId="dash-draw-held" value={s.fair.drawHeld} />
        <Figure label={t("dashboard.waitlist")} testId="dash-waitlist" value={s.fair.waiting}>
          {t("dashboard.waitlistOffers", { offers: s.fair.offers })}
        </Figure>
        {s.fair.seed && (
          <Figure label={t("dashboard.drawSeed")} testId="dash-draw-seed" value={`${s.fair.seed.slice(0, 16)}…`}>
            <a href={`/activities/${s.activity.slug}/draw`}>{t("dashboard.drawVerify")}</a>
          </Figure>
        )}
      </dl>

      {s.channels && (
        <>
          <h2>{t("dashboard.channels")}</h2>
          <p className="muted">
            {t("dashboard.channelPool", { pool: s.channels.pool })}{" "}
            {s.channels.borrowAfterSec === null ? t("dashboard.channelNoBorrow") : t("dashboard.channelBorrow", { seconds: s.channels.borrowAfterSec })}
          </p>
          <table data-testid="dash-channels">
            <thead>
              <tr>
                <th>{t("dashboard.channel")}</th>
                <th>{t("dashboard.channelShare")}</th>
                <th>{t("dashboard.channelLeft")}</th>
                <th>{t("dashboard.channelAdmitted")}</th>
                <th>{t("dashboard.channelHolding")}</th>
              </tr>
            </thead>
            <tbody>
              {s.channels.rows.map((c) => (
                <tr key={c.channel} data-channel={c.channel}>
                  <td>{c.channel}</td>
                  <td>{c.share}</td>
                  <td>{c.left}</td>
                  <td>{c.admitted}</td>
                  <td>{c.holdingUnits}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}

      <h2>{t("dashboard.refusals")}</h2>
      {reasons.length === 0 ? (
        <p className="muted">{t("dashboard.noneYet")}</p>
      ) : (
        <table data-testid="dash-refusals">
          <thead>
            <tr>
              <th>{t("dashboard.reason")}</th>
              <th>{t("dashboard.total")}</th>
              <th>{t("dashboard.perSecond")}</th>
            </tr>
          </thead>
          <tbody>
            {reasons.map(([code, n]) => (
              <tr key={code}>
                <td>{code}</td>
                <td>{n}</td>
                <td>{round(rate.byReason[code] ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Figure(props: { label: string; value: string | number; testId: string; children?: ReactNode }) {
  return (
    <div className={styles.figure}>
      <dt>{props.label}</dt>
      <dd>
        <span data-testid={props.testId}>{props.value}</span>
        {props.children && <small>{props.children}</small>}
      </dd>
    </div>
  );
}
