"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { settleCharge } from "@/lib/payments/sandbox/ledger";

const schema = z.object({
  sessionId: z.string().regex(/^sbx_cs_[A-Za-z0-9_-]{24}$/),
  outcome: z.enum(["PAID", "DECLINED"]),
  delivery: z.enum(["normal", "late", "twice", "never"]).optional(),
});

/** The sandbox provider's pay page buttons: settle the charge, notify the shop (asynchronously), send the shopper back. */
export async function settleSandboxCharge(form: FormData): Promise<void> {
  const delivery = form.get("delivery");
  const input = schema.safeParse({
    sessionId: form.get("sessionId"),
    outcome: form.get("outcome"),
    ...(delivery ? { delivery } : {}),
  });
  if (!input.success) redirect("/");
  const charge = await settleCharge(input.data.sessionId, input.data.outcome, input.data.delivery);
  if (!charge) redirect("/");
  redirect(charge.returnUrl);
}
