"use client";

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface ChartPoint {
  t: string;
  admitted: number;
  refused: number;
  stockLeft: number;
  queue: number;
  p95: number | null;
}

/** The dashboard's figures over time: rates on the left axis, stock and queue on the right. */
export function DashboardChart({ points }: { points: ChartPoint[] }) {
  if (points.length < 2) return <p className="muted">The chart fills in as figures arrive (one point a second).</p>;
  return (
    <figure aria-label="Figures over time" style={{ margin: 0 }}>
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
            name="admitted/s"
            stroke="#1f7a3f"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="rate"
            type="monotone"
            dataKey="refused"
            name="refused/s"
            stroke="#d7263d"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="units"
            type="stepAfter"
            dataKey="stockLeft"
            name="stock left"
            stroke="#234a87"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="units"
            type="stepAfter"
            dataKey="queue"
            name="in queue"
            stroke="#a15c00"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="rate"
            type="monotone"
            dataKey="p95"
            name="p95 ms"
            stroke="#5f6370"
            strokeDasharray="4 2"
            dot={false}
            isAnimationActive={false}
            connectNulls
          />
        </LineChart>
      </ResponsiveContainer>
      <figcaption className="muted" style={{ fontSize: "0.8rem" }}>
        Left axis: admitted/s, refused/s and p95 admission latency (ms). Right axis: units left and tickets in queue.
      </figcaption>
    </figure>
  );
}
