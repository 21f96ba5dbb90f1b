// The one rule for the short status a sale card shows, from the live figures and the server's clock.
export type SaleLabel = "Upcoming" | "Live" | "Paused" | "Sold out" | "Ended" | "Cancelled";

export function saleLabel(s: {
  status: string;
  startMs: number;
  endMs: number;
  now: number;
  paused?: boolean;
  soldOut?: boolean;
}): SaleLabel {
  if (s.status === "CANCELLED") return "Cancelled";
  if (s.status === "ENDED" || s.now >= s.endMs) return "Ended";
  if (s.soldOut) return "Sold out";
  if (s.now < s.startMs) return "Upcoming";
  return s.paused ? "Paused" : "Live";
}
