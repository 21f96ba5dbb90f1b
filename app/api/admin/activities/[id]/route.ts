import { updateActivity } from "@/lib/admin/activities";
import { adminRoute, jsonBody, resultResponse } from "@/lib/admin/http";
import { badInput, fieldErrorsOf } from "@/lib/admin/results";
import { revalidateStorefront } from "@/lib/admin/revalidate";
import { updateActivitySchema } from "@/lib/admin/schemas";

type Ctx = { params: Promise<{ id: string }> };

// PATCH /api/admin/activities/{id}: every field, as the edit form sends them.
export const PATCH = adminRoute<Ctx>(async (req, ctx, admin) => {
  const body = await jsonBody(req);
  const parsed = updateActivitySchema.safeParse({ ...(body as object), id: (await ctx.params).id });
  if (!parsed.success) return resultResponse(badInput(fieldErrorsOf(parsed.error)));
  const result = await updateActivity(parsed.data, admin.id);
  if (result.ok) revalidateStorefront([result.slug]);
  return resultResponse(result);
});
