"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { withShopper, type ActionResult } from "@/lib/actions/with-shopper";
import { flash } from "@/lib/flash/instance";
import { buyFormRequest } from "@/lib/flash/schemas";
import { gate } from "@/lib/gate";
import { CLIENT_IP_HEADER } from "@/lib/http/front-door";

type Admitted = ActionResult<{ ticketId: string; sequence: number }>;

const admitFromForm = withShopper(buyFormRequest, async (input, user): Promise<Admitted> => {
  const { core } = flash();
  // The gate, as on the other doors: the blocklist, then the per-user and per-address order limits.
  const ip = (await headers()).get(CLIENT_IP_HEADER);
  const g = gate();
  const refused = g.blocklist.blocks({ userId: user.id, ip })
    ? ("BLOCKED" as const)
    : !(await g.limits.hit("orders", user.id, ip)).ok
      ? ("RATE_LIMITED" as const)
      : null;
  if (refused) {
    core.countRefusal(input.activityId, refused);
    return { ok: false, code: refused };
  }
  // The token proves the sale had started when it was issued; here the action asks for it itself.
  const token = await core.issueToken(input.activityId, user.id);
  if (!token.ok) return { ok: false, code: token.code };
  const idempotencyKey = input.idempotencyKey ?? crypto.randomUUID();
  const result = await core.admit(input.activityId, user.id, { quantity: input.quantity, idempotencyKey, token: token.token });
  return result.ok ? { ok: true, ticketId: result.ticketId, sequence: result.sequence } : { ok: false, code: result.code };
});

/**
 * The buy form without JavaScript: the same core as POST /api/activities/{id}/orders (which the
 * form uses once JavaScript runs, through the hot server). It answers with a redirect to the
 * shopper's private result page, so the sale page stays the same for everyone and a reload does
 * not post the form again.
 */
export async function buy(form: FormData): Promise<void> {
  const slug = buyFormRequest.schema.shape.slug.safeParse(form.get("slug"));
  const sale = slug.success ? `/activities/${slug.data}` : "/";
  const result = await admitFromForm(form);
  if (!result.ok && result.code === "UNAUTHENTICATED") redirect(`/sign-in?callbackUrl=${encodeURIComponent(sale)}`);
  if (!slug.success) redirect("/");
  redirect(
    result.ok
      ? `${sale}/result?ticket=${encodeURIComponent(result.ticketId)}`
      : `${sale}/result?refused=${encodeURIComponent(result.code)}`,
  );
}
