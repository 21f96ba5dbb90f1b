"use server";

import { headers } from "next/headers";
import { z } from "zod";
import { withShopper, type ActionResult } from "@/lib/actions/with-shopper";
import { flash } from "@/lib/flash/instance";
import { activityIdSchema, buySchema } from "@/lib/flash/schemas";
import { gate } from "@/lib/gate";
import { CLIENT_IP_HEADER } from "@/lib/http/front-door";

/**
 * The buy door for server-rendered flows: the same core as POST /api/activities/{id}/orders.
 * The storefront button posts to that route instead, which the hot server answers without the
 * Next.js router (see scripts/server.ts).
 */
export const buy = withShopper(buySchema.extend({ activityId: activityIdSchema }), async (input, user): Promise<ActionResult<{ ticketId: string; sequence: number }>> => {
  const limited = await gate().limits.hit("orders", user.id, (await headers()).get(CLIENT_IP_HEADER));
  if (!limited.ok) {
    flash().core.countRefusal(input.activityId, "RATE_LIMITED");
    return { ok: false, code: "RATE_LIMITED" };
  }
  const result = await flash().core.admit(input.activityId, user.id, input);
  return result.ok ? { ok: true, ticketId: result.ticketId, sequence: result.sequence } : { ok: false, code: result.code };
});

export type BuyActionInput = z.input<typeof buySchema> & { activityId: string };
