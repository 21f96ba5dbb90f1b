"use client";

import type {
  BuyAccepted,
  OwnEntry,
  OwnPresaleOrder,
  PresaleRefusal,
  PresaleView,
  PrequeueRefusal,
  PrequeueView,
  Progress,
  Refusal,
  ShopperState,
  TicketView,
  TokenGranted,
  WaitlistRefusal,
  WaitlistView,
} from "@/lib/flash/wire";
import type { PublishedDraw } from "@/lib/flash/draw-proof";

// Browser side of the flash-sale HTTP API (README "HTTP API"); the types are the server's (lib/flash/wire.ts).

/** No usable answer: a dropped connection, a 5xx, or a body the app did not write (a proxy's HTML 502 page). */
export class UnavailableError extends Error {
  readonly code = "UNAVAILABLE" as const;
}

/** The app's JSON answer to a flash API request; anything else throws UnavailableError. */
async function answerOf(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new UnavailableError(`${url}: ${e instanceof Error ? e.message : "network error"}`);
  }
  const json = (res.headers.get("content-type") ?? "").includes("application/json");
  if (res.status >= 500 || !json) throw new UnavailableError(`${url}: ${res.status}`);
  try {
    return { status: res.status, body: await res.json() };
  } catch {
    throw new UnavailableError(`${url}: unreadable JSON`);
  }
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  /** Called before each retry, so the page can say it is trying again. */
  onRetry?: (attempt: number) => void;
}

// A hand-written loop: the buy runs inside useActionState, outside React Query's hooks and their retries.
async function retrying<T>(call: () => Promise<T>, { attempts = 4, onRetry }: RetryOptions): Promise<T | Refusal> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof UnavailableError) || attempt >= attempts) return { code: "UNAVAILABLE" };
      onRetry?.(attempt);
      await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1) * (0.5 + Math.random())));
    }
  }
}

// Sales this page last saw sold out, from the shared progress (cacheable, so an edge answers it) or a
// SOLD_OUT answer: a click on one is answered here without a request, so the sold-out crowd's clicks
// never reach the origin. Each progress answer sets or clears it (units can come back on sale).
const soldOut = new Set<string>();
const SOLD_OUT: Refusal = { code: "SOLD_OUT" };

/** The last progress or answer this page saw for the sale said sold out. */
export function knownSoldOut(activityId: string): boolean {
  return soldOut.has(activityId);
}

function learn(activityId: string, answer: { soldOut?: boolean; code?: string }) {
  if (answer.soldOut === true || answer.code === "SOLD_OUT") soldOut.add(activityId);
  else if (answer.soldOut === false) soldOut.delete(activityId);
}

// Queries throw UnavailableError and React Query retries them with its backoff (components/providers).
export async function fetchProgress(activityId: string): Promise<Progress | null> {
  // The same for everyone and cacheable by a CDN: no cookie goes with it.
  const { status, body } = await answerOf(`/api/activities/${activityId}/progress`, { credentials: "omit" });
  if (status === 404) return null;
  if (status !== 200) throw new Error(`progress ${status}`);
  learn(activityId, body as Progress);
  return body as Progress;
}

export async function fetchTicket(ticketId: string): Promise<TicketView | null> {
  const { status, body } = await answerOf(`/api/tickets/${ticketId}`, { cache: "no-store" });
  if (status === 404) return null;
  if (status !== 200) throw new Error(`ticket ${status}`);
  return body as TicketView;
}

/** The shopper's own tickets, units held and trace in a sale; null when signed out or no such sale. */
export async function fetchMe(activityId: string): Promise<ShopperState | null> {
  const { status, body } = await answerOf(`/api/activities/${activityId}/me`, { cache: "no-store" });
  if (status === 404 || status === 401) return null;
  if (status !== 200) throw new Error(`me ${status}`);
  return body as ShopperState;
}

export function requestToken(activityId: string, opts: RetryOptions = {}): Promise<TokenGranted | Refusal> {
  if (soldOut.has(activityId)) return Promise.resolve(SOLD_OUT);
  return retrying(async () => {
    const { body } = await answerOf(`/api/activities/${activityId}/token`, { cache: "no-store" });
    return body as TokenGranted | Refusal;
  }, opts);
}

/** Retried with the same idempotency key, so a retry after a lost answer gets the first answer, never a second order. */
export function postBuy(
  activityId: string,
  input: { quantity: number; idempotencyKey: string; token: string },
  opts: RetryOptions = {},
): Promise<BuyAccepted | Refusal> {
  if (soldOut.has(activityId)) return Promise.resolve(SOLD_OUT);
  return retrying(async () => {
    const { body } = await answerOf(`/api/activities/${activityId}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    learn(activityId, body as Refusal);
    return body as BuyAccepted | Refusal;
  }, opts);
}

// The shopper's own fair-entry state (GET) and joins (POST): the body on success, or the refusal's code.
async function ownState<T, R extends { code: string }>(url: string, method?: "POST"): Promise<T | R> {
  const { status, body } = await answerOf(url, method ? { method } : { cache: "no-store" });
  if (status >= 300 && !(body as Partial<R>).code) throw new Error(`${url} ${status}`);
  return body as T | R;
}

/** The sale's pre-queue and the shopper's entry (fair entry); a refusal when there is none or signed out. */
export const fetchPrequeue = (activityId: string) => ownState<PrequeueView, PrequeueRefusal>(`/api/activities/${activityId}/prequeue`);

/** Joins the pre-queue; the same entry again when already in. */
export const joinPrequeue = (activityId: string) => ownState<OwnEntry, PrequeueRefusal>(`/api/activities/${activityId}/prequeue`, "POST");

/** The shopper's place on the sale's waitlist, or the unit offered to them. */
export const fetchWaitlist = (activityId: string) => ownState<WaitlistView, WaitlistRefusal>(`/api/activities/${activityId}/waitlist`);

/** Joins a sold-out sale's waitlist; the same place again when already in line. */
export const joinWaitlist = (activityId: string) => ownState<WaitlistView, WaitlistRefusal>(`/api/activities/${activityId}/waitlist`, "POST");

/** The sale's pre-sale phase and the shopper's own pre-sale order (docs/presale.md). */
export const fetchPresale = (activityId: string) => ownState<PresaleView, PresaleRefusal>(`/api/activities/${activityId}/deposit`);

/** Takes a deposit: the shopper's pre-sale order (the same one again when they have it). */
export const takeDeposit = (activityId: string) => ownState<OwnPresaleOrder, PresaleRefusal>(`/api/activities/${activityId}/deposit`, "POST");

/** The sale's published draw (public; cached once drawn). */
export async function fetchDraw(activityId: string): Promise<PublishedDraw | null> {
  const { status, body } = await answerOf(`/api/activities/${activityId}/draw`);
  if (status === 404) return null;
  if (status !== 200) throw new Error(`draw ${status}`);
  return body as PublishedDraw;
}
