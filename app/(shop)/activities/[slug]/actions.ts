"use server";

import { z } from "zod";
import { withShopper } from "@/lib/actions/with-shopper";
import { flash } from "@/lib/flash/instance";
import { activityIdSchema, buySchema } from "@/lib/flash/schemas";

/**
 * The buy door for server-rendered flows: the same core as POST /api/activities/{id}/orders.
 * The storefront button posts to that route instead, which the hot server answers without the
 * Next.js router (see scripts/server.ts).
 */
export const buy = withShopper(buySchema.extend({ activityId: activityIdSchema }), async (input, user) => {
  const result = await flash().core.admit(input.activityId, user.id, input);
  return result.ok ? { ok: true, ticketId: result.ticketId, sequence: result.sequence } : { ok: false, code: result.code };
});

export type BuyActionInput = z.input<typeof buySchema> & { activityId: string };
