import { createActivity } from "@/lib/admin/activities";
import { adminRoute, jsonBody, resultResponse } from "@/lib/admin/http";
import { badInput, fieldErrorsOf } from "@/lib/admin/results";
import { revalidateStorefront } from "@/lib/admin/revalidate";
import { createActivitySchema } from "@/lib/admin/schemas";

// POST /api/admin/activities: the same schema and domain function as the console's form.
export const POST = adminRoute(async (req, _ctx, admin) => {
  const parsed = createActivitySchema.safeParse(await jsonBody(req));
  if (!parsed.success) return resultResponse(badInput(fieldErrorsOf(parsed.error)));
  const result = await createActivity(parsed.data, admin.id);
  if (result.ok) revalidateStorefront([result.slug]);
  return resultResponse(result);
});
