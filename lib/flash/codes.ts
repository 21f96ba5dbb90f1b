// The fixed list of outcomes a shopper or API client can see. Only these reach the browser.
export const REFUSAL_CODES = [
  "BAD_INPUT",
  "UNAUTHENTICATED",
  "NOT_FOUND",
  "NOT_STARTED",
  "ENDED",
  "PAUSED",
  "SOLD_OUT",
  "INSUFFICIENT_STOCK",
  "LIMIT_REACHED",
  "BAD_TOKEN",
  "RATE_LIMITED",
  "PASS_REQUIRED",
  "BLOCKED",
  "EMAIL_UNVERIFIED",
  "UNAVAILABLE",
  "NON_PAYER",
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/**
 * Codes a worker may give a ticket it could not turn into an order. CANCELLED: the sale was cancelled
 * before the ticket was written; LOST_IN_FAILOVER: Redis lost the ticket (docs/durability.md); FAILED:
 * the ticket could not be written after several attempts (a dead letter). Each returns the unit.
 */
export type RejectionCode = "SOLD_OUT" | "LIMIT_REACHED" | "ENDED" | "CANCELLED" | "LOST_IN_FAILOVER" | "FAILED";

const REJECTION_ONLY: Record<Exclude<RejectionCode, RefusalCode>, string> = {
  CANCELLED: "The sale was cancelled before your order could be written. Nothing was charged.",
  LOST_IN_FAILOVER: "Your place in the queue was lost when the shop's queue server failed. Nothing was charged; please try again.",
  FAILED: "Your order could not be written. Nothing was charged; please try again.",
};

/** The shopper's text for a rejected ticket. */
export function rejectionMessage(code: string): string {
  return (REJECTION_ONLY as Record<string, string>)[code] ?? (MESSAGES as Record<string, string>)[code] ?? MESSAGES.SOLD_OUT;
}

const STATUS: Record<RefusalCode, number> = {
  BAD_INPUT: 400,
  UNAUTHENTICATED: 401,
  BAD_TOKEN: 403,
  NOT_FOUND: 404,
  NOT_STARTED: 409,
  PAUSED: 409,
  LIMIT_REACHED: 409,
  INSUFFICIENT_STOCK: 409,
  ENDED: 410,
  SOLD_OUT: 410,
  RATE_LIMITED: 429,
  PASS_REQUIRED: 403,
  BLOCKED: 403,
  EMAIL_UNVERIFIED: 403,
  UNAVAILABLE: 503,
  NON_PAYER: 403,
};

export function httpStatus(code: RefusalCode): number {
  return STATUS[code];
}

export const MESSAGES: Record<RefusalCode, string> = {
  BAD_INPUT: "That request was not valid.",
  UNAUTHENTICATED: "Sign in to buy.",
  NOT_FOUND: "This sale does not exist.",
  NOT_STARTED: "The sale has not started yet.",
  ENDED: "The sale has ended.",
  PAUSED: "The sale is paused for a moment. Please try again shortly.",
  SOLD_OUT: "Sold out — every unit has been taken.",
  INSUFFICIENT_STOCK: "Not enough units left for that quantity.",
  LIMIT_REACHED: "You have already bought the most this sale allows per person.",
  BAD_TOKEN: "Your buy link has expired. Reload the page and try again.",
  RATE_LIMITED: "Too many attempts. Please wait a moment.",
  PASS_REQUIRED: "Complete the human check before the sale starts to get your place.",
  BLOCKED: "This account cannot take part in this sale.",
  EMAIL_UNVERIFIED: "Confirm your email address with the link we mailed you, then sign in again.",
  UNAVAILABLE: "The shop is busy. Please try again.",
  NON_PAYER: "Several of your earlier orders expired unpaid, so this sale does not accept your orders. Contact the shop to lift this.",
};
