"use client";

import { useTranslations } from "next-intl";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface ChartPoint {
  /** Server time of the snapshot (ms) and the same as a time of day in the shop's zone. */
  at: number;
  t: string;
  admitted: number;
  refused: number;
  stockLeft: number;
  queue: number;
  p95: number | null;
}

/** The dashboard's figures over time: rates on the left axis, stock and queue on the right. */
export function DashboardChart({ points, timeZone }: { points: ChartPoint[]; timeZone: string }) {
  const t = useTranslations("admin.dashboard");
  if (points.length < 2) return <p className="muted">{t("chartEmpty")}</p>;
  return (
    <figure aria-label={t("chartLabel")} style={{ margin: 0 }}>
      <ResponsiveContainer width="100%" height={280}>
        <LineChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e3e8" />
          <XAxis dataKey="t" minTickGap={40} fontSize={12} />
          <YAxis yAxisId="rate" fontSize={12} allowDecimals={false} />
          <YAxis yAxisId="units" orientation="right" fontSize={12} allowDecimals={false} />
          <Tooltip />
          <Legend />
          <Line
            yAxisId="rate"
            type="monotone"
            dataKey="admitted"
            name={t("admittedS")}
            stroke="#1f7a3f"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="rate"
            type="monotone"
            dataKey="refused"
            name={t("refusedS")}
            stroke="#d7263d"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="units"
            type="stepAfter"
            dataKey="stockLeft"
            name={t("stockLeftLine")}
            stroke="#234a87"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="units"
            type="stepAfter"
            dataKey="queue"
            name={t("inQueueLine")}
            stroke="#a15c00"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="rate"
            type="monotone"
            dataKey="p95"
            name={t("p95Line")}
            stroke="#5f6370"
            strokeDasharray="4 2"
            dot={false}
            isAnimationActive={false}
            connectNulls
          />
        </LineChart>
      </ResponsiveContainer>
      <figcaption className="muted" style={{ fontSize: "0.8rem" }}>
        {t("axes", { zone: timeZone })}
      </figcaption>
    </figure>
  );
}
