"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";

/** Offset of the server clock from this browser's, measured against /api/time (half the round trip added). */
export function useServerOffset(): number {
  const { data } = useQuery({
    queryKey: ["server-offset"],
    queryFn: async () => {
      const sent = Date.now();
      const res = await fetch("/api/time", { cache: "no-store" });
      const { now } = (await res.json()) as { now: number };
      const received = Date.now();
      return now - (sent + received) / 2;
    },
    staleTime: 60_000,
    refetchInterval: 60_000,
  });
  return data ?? 0;
}

/** The server's current time, ticking every `intervalMs`. */
export function useServerNow(intervalMs = 250): number {
  const offset = useServerOffset();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now + offset;
}

/** A countdown as whole days and "hh:mm:ss" (components/flash/countdown.tsx words the days). */
export function countdownParts(ms: number): { days: number; time: string } {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return { days: Math.floor(s / 86400), time: `${hh}:${mm}:${ss}` };
}
