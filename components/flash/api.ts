"use client";

import type { RefusalCode } from "@/lib/flash/codes";

// Browser side of the flash-sale HTTP API (README "HTTP API").
export interface Progress {
  activityId: string;
  status: string;
  paused: boolean;
  startAt: string;
  endAt: string;
  stockLeft: number;
  soldOut: boolean;
  soldOutAt: string | null;
  admitted: number;
  served: number;
  serverTime: string;
}

export type TicketView =
  | { status: "QUEUED"; sequence: number; ahead: number }
  | { status: "CONFIRMED"; sequence: number; orderId: string; payBy?: string }
  | { status: "REJECTED"; sequence: number; code: RefusalCode };

/** A refusal; RATE_LIMITED carries the seconds to wait. */
export type Refusal = { code: RefusalCode; retryAfter?: number };

export async function fetchProgress(activityId: string): Promise<Progress | null> {
  const res = await fetch(`/api/activities/${activityId}/progress`);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`progress ${res.status}`);
  return (await res.json()) as Progress;
}

export async function fetchTicket(ticketId: string): Promise<TicketView | null> {
  const res = await fetch(`/api/tickets/${ticketId}`, { cache: "no-store" });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`ticket ${res.status}`);
  return (await res.json()) as TicketView;
}

export async function requestToken(activityId: string): Promise<{ token: string } | Refusal> {
  const res = await fetch(`/api/activities/${activityId}/token`, { cache: "no-store" });
  return (await res.json()) as { token: string } | Refusal;
}

export async function postBuy(
  activityId: string,
  body: { quantity: number; idempotencyKey: string; token: string },
): Promise<{ ticketId: string; sequence: number } | Refusal> {
  const res = await fetch(`/api/activities/${activityId}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status >= 500 && res.status !== 503) return { code: "UNAVAILABLE" };
  return (await res.json()) as { ticketId: string; sequence: number } | Refusal;
}
