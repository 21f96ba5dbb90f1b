import { z } from "zod";

/**
 * One definition per request type: the schema and the largest body it may come in. Every door
 * (the hot server, the Next.js route handlers, the server action) reads a request through these,
 * so a limit or a field rule changes in one place (FormData's strings pass the same schema).
 */
export interface RequestSpec<S extends z.ZodType> {
  schema: S;
  maxBytes: number;
}

const ACTIVITY_ID = /^[a-z0-9]{8,40}$/;
export const activityIdSchema = z.string().regex(ACTIVITY_ID);
/** The same rule as activityIdSchema without zod's result object, for the per-request hot path. */
export const isActivityId = (id: string) => ACTIVITY_ID.test(id);

// Quantity: a JSON integer, or (FormData) a string of decimal digits only. z.coerce would turn
// "0x2", " 1 ", "1e0", true and [2] into numbers; a hostile client must get 400 for each.
export const quantitySchema = z
  .union([z.number(), z.string().regex(/^[0-9]{1,2}$/).transform(Number)])
  .pipe(z.number().int().min(1).max(99));
const quantity = quantitySchema;
const idempotencyKey = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "8–64 characters of A–Z, a–z, 0–9, _ or -");

export const buySchema = z.object({
  quantity,
  idempotencyKey,
  token: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, "malformed token"),
});
export type BuyInput = z.infer<typeof buySchema>;

/** A buy is three short fields; 4 KB leaves room for any client's JSON and no room for abuse. */
const BUY_MAX_BYTES = 4096;

/** POST /api/activities/{id}/orders (JSON): the buy button with JavaScript, answered by the hot server or the route handler. */
export const buyRequest: RequestSpec<typeof buySchema> = { schema: buySchema, maxBytes: BUY_MAX_BYTES };

/**
 * The buy form posted without JavaScript (server action, FormData). The static page cannot carry a
 * per-shopper token or key, so the action asks the core for the token itself and keys the request
 * when the form sends no key; the per-user limit in admission still bounds a resubmitted form.
 */
export const buyFormRequest = {
  schema: z.object({
    activityId: activityIdSchema,
    slug: z.string().regex(/^[a-z0-9-]{1,120}$/),
    quantity,
    idempotencyKey: idempotencyKey.optional(),
  }),
  maxBytes: BUY_MAX_BYTES,
} satisfies RequestSpec<z.ZodType>;
