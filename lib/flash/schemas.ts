import { z } from "zod";

// One schema per input, shared by the server action and the HTTP doors (z.coerce for FormData).
// Quantity: a JSON integer, or (FormData) a string of decimal digits only. z.coerce would turn
// "0x2", " 1 ", "1e0", true and [2] into numbers; a hostile client must get 400 for each.
export const quantitySchema = z
  .union([z.number(), z.string().regex(/^[0-9]{1,2}$/).transform(Number)])
  .pipe(z.number().int().min(1).max(99));

export const buySchema = z.object({
  quantity: quantitySchema,
  idempotencyKey: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "8–64 characters of A–Z, a–z, 0–9, _ or -"),
  token: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, "malformed token"),
});
export type BuyInput = z.infer<typeof buySchema>;

export const activityIdSchema = z.string().regex(/^[a-z0-9]{8,40}$/);
