import type { z } from "zod";

// The fixed list of outcomes an admin action or API can return; only these reach the browser.
export const ADMIN_ERROR_CODES = [
  "BAD_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "RATE_LIMITED",
  "UNAVAILABLE",
] as const;
export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number];

export type AdminFailure = {
  ok: false;
  code: AdminErrorCode;
  /** One message per invalid field, keyed by the field's name in the form. */
  fieldErrors?: Record<string, string>;
  message?: string;
};
export type AdminResult<T = object> = ({ ok: true } & T) | AdminFailure;

const STATUS: Record<AdminErrorCode, number> = {
  BAD_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

export function adminHttpStatus(code: AdminErrorCode): number {
  return STATUS[code];
}

export function fail(code: AdminErrorCode, message?: string, fieldErrors?: Record<string, string>): AdminFailure {
  return { ok: false, code, ...(message ? { message } : {}), ...(fieldErrors ? { fieldErrors } : {}) };
}

/** Field errors as the form shows them: the first message per top-level field. */
export function fieldErrorsOf(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? String(issue.path[0]) : "form";
    out[key] ??= issue.message;
  }
  return out;
}

export function badInput(fieldErrors: Record<string, string>): AdminFailure {
  return { ok: false, code: "BAD_INPUT", message: "correctFields", fieldErrors };
}
