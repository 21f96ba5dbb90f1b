"use client";

import { useQuery } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { DashboardChart, type ChartPoint } from "@/components/admin/dashboard-chart";
import { RunControls } from "@/components/admin/run-controls";
import styles from "@/components/admin/admin.module.css";
import type { DashboardSnapshot } from "@/lib/admin/dashboard";

const HISTORY = 180;

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

const time = (iso: string | null) => (iso ? new Date(iso).toISOString().slice(11, 19) + " UTC" : "—");
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
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
  // A new snapshot extends the history once (React's "adjust state during render" pattern).
  if (data.at !== last?.at) {
    const r = rates(last, data);
    setLast(data);
    setRate(r);
    setHistory((h) => [
      ...h.slice(-(HISTORY - 1)),
      {
        t: new Date(data.at).toISOString().slice(11, 19),
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
  return (
    <div>
      <p aria-live="polite" data-testid="dash-state">
        <span className={s.activity.status === "LIVE" ? "badge live" : "badge"}>{s.activity.status.toLowerCase()}</span>{" "}
        {s.activity.paused && (
          <span className="badge" data-testid="dash-paused">
            paused
          </span>
        )}{" "}
        {!s.redis && (
          <span className="muted">Not preheated yet (the workers preheat 10 minutes before the start).</span>
        )}
        {isError && <span className="field-error"> Live figures are not updating; retrying…</span>}
      </p>

      <RunControls
        activityId={activityId}
        status={s.activity.status}
        paused={s.activity.paused}
        startAt={s.activity.startAt}
        serverNow={s.at}
      />

      <dl className={styles.figures}>
        <Figure label="Stock left (Redis)" testId="dash-stock-left" value={s.redis ? s.redis.stockLeft : "—"}>
          of {s.activity.sellable} sellable
        </Figure>
        <Figure label="Stock (PostgreSQL)" testId="dash-stock-pg" value={s.db.stock}>
          not yet in orders
        </Figure>
        <Figure label="Units sold" testId="dash-sold" value={s.db.holdingUnits}>
          <span data-testid="dash-orders">{s.db.holdingOrders}</span> orders holding stock
        </Figure>
        <Figure label="Paid" testId="dash-paid" value={s.db.byStatus.PAID?.orders ?? 0}>
          <span data-testid="dash-pending">{s.db.byStatus.PENDING_PAYMENT?.orders ?? 0}</span> pending ·{" "}
          <span data-testid="dash-expired">{s.db.byStatus.EXPIRED?.orders ?? 0}</span> expired ·{" "}
          <span data-testid="dash-refunded">{s.db.byStatus.REFUNDED?.orders ?? 0}</span> refunded ·{" "}
          {s.db.byStatus.CANCELLED?.orders ?? 0} cancelled
        </Figure>
        <Figure label="In queue" testId="dash-queue" value={s.redis ? s.redis.queueTickets : 0}>
          tickets · {s.redis?.queueUnits ?? 0} units
        </Figure>
        <Figure label="Confirmed (Redis)" testId="dash-confirmed" value={s.counters.confirmed}>
          {s.counters.rejected} rejected by the workers
        </Figure>
        <Figure label="Admitted / s" testId="dash-admitted-rate" value={round(rate.admitted)}>
          {s.counters.admitted} in total
        </Figure>
        <Figure label="Refused / s" testId="dash-refused-rate" value={round(rate.refused)}>
          {s.counters.refusedTotal} in total
        </Figure>
        <Figure label="Sold out at" testId="dash-sold-out" value={time(s.redis?.soldOutAt ?? s.db.soldOutAt)} />
        <Figure label="Worker lag" testId="dash-lag" value={s.worker ? (s.worker.lag ?? "?") : "—"}>
          {s.worker
            ? `${s.worker.pending} pending · ${plural(s.worker.consumers, "consumer")}`
            : "no consumer group yet"}
        </Figure>
        <Figure
          label="p95 admission"
          testId="dash-p95"
          value={s.latency.p95Ms === null ? "—" : `${s.latency.p95Ms} ms`}
        >
          {plural(s.latency.processes, "web process", "web processes")} · {plural(s.latency.samples, "sample")}
        </Figure>
      </dl>

      {balance && (
        <p
          data-testid="dash-conservation"
          className={balance.offered === balance.accounted ? styles.ok : balance.settled ? styles.bad : "muted"}
        >
          Conservation: {balance.offered} units offered, {balance.accounted} accounted for (left + queue + sold)
          {balance.offered === balance.accounted ? " ✓" : balance.settled ? " — mismatch" : " — queue draining"}
        </p>
      )}

      <div className={styles.chart}>
        <DashboardChart points={history} />
      </div>

      <h2>Durability</h2>
      <dl className={styles.figures}>
        <Figure label="Redis generation" testId="dash-epoch" value={s.durability.epoch}>
          {s.durability.ready ? "ready" : "rebuilding from PostgreSQL — buyers are asked to retry"}
        </Figure>
        <Figure label="Dead letters" testId="dash-dead-letters" value={s.durability.deadLetters.count}>
          {s.durability.deadLetters.latest[0]
            ? `latest ${time(new Date(s.durability.deadLetters.latest[0].at).toISOString())}: ${s.durability.deadLetters.latest[0].error.slice(0, 80)}`
            : "none"}
        </Figure>
        <Figure
          label="Last reconciliation"
          testId="dash-reconcile"
          value={s.durability.reconcile ? time(s.durability.reconcile.at) : "—"}
        >
          {s.durability.reconcile
            ? `${plural(s.durability.reconcile.checked, "sale")} checked · ${s.durability.reconcile.drift.length} differences here · ${s.durability.reconcile.repaired} repaired`
            : "not run yet"}
        </Figure>
      </dl>

      <h2>Refusals by reason</h2>
      {reasons.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <table data-testid="dash-refusals">
          <thead>
            <tr>
              <th>Reason</th>
              <th>Total</th>
              <th>Per second</th>
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
