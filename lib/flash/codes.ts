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
  "BAD_API_KEY",
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/**
 * Codes a worker may give a ticket it could not turn into an order. CANCELLED: the sale was cancelled
 * before the ticket was written; LOST_IN_FAILOVER: Redis lost the ticket (docs/durability.md); FAILED:
 * the ticket could not be written after several attempts (a dead letter). Each returns the unit.
 */
export type RejectionCode = "SOLD_OUT" | "LIMIT_REACHED" | "ENDED" | "CANCELLED" | "LOST_IN_FAILOVER" | "FAILED";

/** Rejection codes that are not refusal codes; their texts are buy.refusal.<CODE> in messages/*.json too. */
export const REJECTION_ONLY_CODES = ["CANCELLED", "LOST_IN_FAILOVER", "FAILED"] as const satisfies readonly Exclude<RejectionCode, RefusalCode>[];

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
  BAD_API_KEY: 401,
};

export function httpStatus(code: RefusalCode): number {
  return STATUS[code];
}

// What each code says to a shopper lives in messages/*.json under buy.refusal.<CODE>.
