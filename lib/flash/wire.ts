import type { RefusalCode, RejectionCode } from "@/lib/flash/codes";

// What the flash-sale HTTP API answers (README "HTTP API"), shared by the server and the browser:
// no server-only import here. The server builds these bodies; components/flash reads them.

/** GET /api/activities/{id}/progress: the same for every shopper, cacheable for a second. */
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

/** GET /api/tickets/{ticketId}: the owner's view of a ticket. */
export type TicketView =
  | { status: "QUEUED"; sequence: number; ahead: number }
  | { status: "CONFIRMED"; sequence: number; orderId: string; payBy?: string }
  | { status: "REJECTED"; sequence: number; code: RejectionCode };

/** One of the shopper's tickets in GET /api/activities/{id}/me. */
export type OwnTicket = TicketView & { ticketId: string; quantity: number };

/**
 * GET /api/activities/{id}/me: the signed-in shopper's own state in a sale, private (no-store).
 * `source` is "archive" once the sale's Redis keys have expired and PostgreSQL answered (orders
 * only: no queue, no trace).
 */
export interface ShopperState {
  activityId: string;
  /** Units admitted and not refused: what counts against the sale's per-person limit. */
  held: number;
  tickets: OwnTicket[];
  trace: MissTrace | null;
  source: "live" | "archive";
}

/**
 * "Why didn't I get one?": the shopper's first decided attempt (at or after the start) next to the
 * point where the stock ran out. Times are ISO; the page shows them relative to `startAt`.
 */
export interface MissTrace {
  startAt: string;
  /** When the attempt reached the server. */
  at: string;
  /** "ADMITTED", or the check that refused it. */
  outcome: "ADMITTED" | RefusalCode;
  /** Their place in the queue, when admitted. */
  sequence: number | null;
  /** The ticket that took the last unit and when (null: the stock never ran out). */
  lastUnit: { sequence: number; at: string } | null;
}

/** Any refused request (4xx/503); `startAt` on NOT_STARTED from the token route, `retryAfter` (seconds) on RATE_LIMITED. */
export interface Refusal {
  code: RefusalCode;
  startAt?: string;
  retryAfter?: number;
}

/** POST /api/activities/{id}/orders, 202. */
export interface BuyAccepted {
  ticketId: string;
  sequence: number;
}

/** GET /api/activities/{id}/token, 200. */
export interface TokenGranted {
  token: string;
}

/** People ahead of a queued ticket: admitted before it and not yet answered. Never goes up. */
export function aheadOf(sequence: number, served: number): number {
  return Math.max(0, sequence - served - 1);
}

/** Fair entry's refusals (GET/POST /api/activities/{id}/prequeue); texts under fair.refusal.<CODE>. */
export type PrequeueCode = "NOT_FOUND" | "NO_PREQUEUE" | "PREQUEUE_NOT_OPEN" | "PREQUEUE_CLOSED";
export interface PrequeueRefusal {
  code: PrequeueCode | "UNAUTHENTICATED" | "BLOCKED" | "EMAIL_UNVERIFIED" | "RATE_LIMITED";
}

/** The shopper's own pre-queue entry (fair entry). */
export interface OwnEntry {
  entryId: string;
  joinedAt: string;
  /** Place in the draw, once drawn. */
  position: number | null;
  /** The sequence number the shopper's first ticket carries, when units were reserved for them. */
  sequence: number | null;
  reserved: number;
}

/** GET /api/activities/{id}/prequeue: the sale's window and commitment, and the shopper's own entry. */
export interface PrequeueView {
  activityId: string;
  opensAt: string;
  closesAt: string;
  commitment: string;
  drawn: boolean;
  holdUntil: string | null;
  entries: number;
  entry: OwnEntry | null;
}


/** GET /api/activities/{id}/waitlist: the shopper's place on a sold-out sale's waitlist, or the unit offered to them. */
export interface WaitlistView {
  activityId: string;
  /** 1-based place in line; null when not waiting (never joined, or offered). */
  position: number | null;
  /** An open offer: buy before this (ISO); null when none. */
  offerUntil: string | null;
  /** Shoppers waiting. */
  waiting: number;
}

/** The waitlist's refusals (texts under waitlist.refusal.<CODE>). */
export interface WaitlistRefusal {
  code: "UNAUTHENTICATED" | "NOT_FOUND" | "BLOCKED" | "EMAIL_UNVERIFIED" | "RATE_LIMITED" | "UNAVAILABLE" | "ENDED" | "NOT_STARTED" | "LIMIT_REACHED" | "NOT_SOLD_OUT";
}

/** Pre-sale's refusals (GET/POST /api/activities/{id}/deposit); texts under presale.refusal.<CODE>. */
export type PresaleCode = "NOT_FOUND" | "NO_PRESALE" | "PRESALE_NOT_OPEN" | "PRESALE_CLOSED" | "PRESALE_SOLD_OUT" | "LIMIT_REACHED";
export interface PresaleRefusal {
  code: PresaleCode | "UNAUTHENTICATED" | "BLOCKED" | "EMAIL_UNVERIFIED" | "RATE_LIMITED";
}

/** GET /api/activities/{id}/deposit: the sale's pre-sale phase and the shopper's own pre-sale order (docs/presale.md). */
export interface PresaleView {
  activityId: string;
  deposit: number;
  opensAt: string;
  closesAt: string;
  /** Units the pre-sale may still reserve. */
  unitsLeft: number;
  balanceWindowSec: number;
  order: OwnPresaleOrder | null;
}

export interface OwnPresaleOrder {
  orderId: string;
  status: string;
  deposit: number;
  balance: number;
  depositPaid: boolean;
  /** Deposit unpaid: pay it by then; paid: the balance is due by then. */
  payBy: string | null;
}
