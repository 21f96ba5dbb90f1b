"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { withShopper } from "@/lib/actions/with-shopper";
import type { RequestSpec } from "@/lib/flash/schemas";
import { startCheckout } from "@/lib/payments/checkout";

const payRequest = {
  schema: z.object({
    orderId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    // The sandbox's notification delivery for this checkout (tests and demos).
    delivery: z.enum(["normal", "late", "twice", "never"]).optional(),
  }),
  maxBytes: 1024,
} satisfies RequestSpec<z.ZodType>;

const pay = withShopper(payRequest, async (input, user) => {
  const r = await startCheckout(user.id, input.orderId, input.delivery ? { delivery: input.delivery } : {});
  return r.ok
    ? { ok: true as const, url: r.url }
    : { ok: false as const, code: r.code === "NOT_FOUND" ? "NOT_FOUND" : "ENDED" };
});

export type PayState = { code: string } | null;

/** "Pay" on the order page: opens (or reuses) a checkout and sends the shopper to the provider's page. */
export async function payOrder(_prev: PayState, form: FormData): Promise<PayState> {
  const r = await pay(form);
  if (r.ok) redirect(r.url);
  return { code: r.code };
}
