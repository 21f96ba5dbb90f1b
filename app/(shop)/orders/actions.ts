"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { withShopper } from "@/lib/actions/with-shopper";
import { startCheckout } from "@/lib/payments/checkout";

const paySchema = z.object({
  orderId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  // The sandbox's notification delivery for this checkout (tests and demos).
  delivery: z.enum(["normal", "late", "twice", "never"]).optional(),
});

const pay = withShopper<typeof paySchema, { url: string }>(paySchema, (input, user) =>
  startCheckout(user.id, input.orderId, input.delivery ? { delivery: input.delivery } : {}),
);

export type PayState = { code: string } | null;

/** "Pay" on the order page: opens (or reuses) a checkout and sends the shopper to the provider's page. */
export async function payOrder(_prev: PayState, form: FormData): Promise<PayState> {
  const delivery = form.get("delivery");
  const r = await pay({ orderId: form.get("orderId"), ...(delivery ? { delivery } : {}) });
  if (r.ok) redirect(r.url);
  return { code: r.code };
}
