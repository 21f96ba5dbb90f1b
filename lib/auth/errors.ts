// Shared by the server and the sign-in form; no imports, so the browser bundle stays free of zod
// (whose eval probe the strict CSP would report).

/** The prefix of the error next-auth hands the sign-in form when an account or address is locked out; the seconds follow. */
export const RATE_LIMITED_ERROR = "RATE_LIMITED:";
