import { z } from "zod";

// One schema per input, shared by the server action and the HTTP doors (z.coerce for FormData).
export const buySchema = z.object({
  quantity: z.coerce.number().int().min(1).max(99),
  idempotencyKey: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "8–64 characters of A–Z, a–z, 0–9, _ or -"),
  token: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, "malformed token"),
});
export type BuyInput = z.infer<typeof buySchema>;

export const activityIdSchema = z.string().regex(/^[a-z0-9]{8,40}$/);
