import { readDashboard } from "@/lib/admin/dashboard";
import { adminRoute, resultResponse } from "@/lib/admin/http";
import { idSchema } from "@/lib/admin/schemas";

type Ctx = { params: Promise<{ id: string }> };

// Polled every second by the console's dashboard; never cached.
export const GET = adminRoute<Ctx>(async (_req, ctx) => {
  const id = idSchema.safeParse((await ctx.params).id);
  const snapshot = id.success ? await readDashboard(id.data) : null;
  if (!snapshot) return resultResponse({ ok: false, code: "NOT_FOUND" });
  return Response.json(snapshot, { headers: { "cache-control": "private, no-store" } });
});
