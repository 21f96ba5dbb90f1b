import { runControl } from "@/lib/admin/controls";
import { adminRoute, jsonBody, resultResponse } from "@/lib/admin/http";
import { badInput, fieldErrorsOf } from "@/lib/admin/results";
import { revalidateStorefront } from "@/lib/admin/revalidate";
import { controlSchema } from "@/lib/admin/schemas";

type Ctx = { params: Promise<{ id: string }> };

// POST /api/admin/activities/{id}/controls {"action": "pause" | "restock", "units": 10 | …}
export const POST = adminRoute<Ctx>(async (req, ctx, admin) => {
  const body = await jsonBody(req);
  const parsed = controlSchema.safeParse({ ...(body as object), activityId: (await ctx.params).id });
  if (!parsed.success) return resultResponse(badInput(fieldErrorsOf(parsed.error)));
  const result = await runControl(parsed.data, admin.id);
  if (result.ok) revalidateStorefront([result.slug]);
  return resultResponse(result);
});
