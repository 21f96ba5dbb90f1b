"use client";

import type { BuyAccepted, Progress, Refusal, TicketView, TokenGranted } from "@/lib/flash/wire";

// Browser side of the flash-sale HTTP API (README "HTTP API"); the types are the server's (lib/flash/wire.ts).

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

export async function requestToken(activityId: string): Promise<TokenGranted | Refusal> {
  const res = await fetch(`/api/activities/${activityId}/token`, { cache: "no-store" });
  return (await res.json()) as TokenGranted | Refusal;
}

export async function postBuy(
  activityId: string,
  body: { quantity: number; idempotencyKey: string; token: string },
): Promise<BuyAccepted | Refusal> {
  const res = await fetch(`/api/activities/${activityId}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status >= 500 && res.status !== 503) return { code: "UNAVAILABLE" };
  return (await res.json()) as BuyAccepted | Refusal;
}
