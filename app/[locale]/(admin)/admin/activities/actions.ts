"use server";

import { withAdmin } from "@/lib/actions/with-admin";
import { createActivity, updateActivity } from "@/lib/admin/activities";
import { runControl } from "@/lib/admin/controls";
import { revalidateStorefront } from "@/lib/admin/revalidate";
import { controlSchema, createActivitySchema, updateActivitySchema } from "@/lib/admin/schemas";

// The same schemas and domain functions as /api/admin/activities/**.
export const createActivityAction = withAdmin(createActivitySchema, async (input, admin) => {
  const result = await createActivity(input, admin.id);
  if (result.ok) revalidateStorefront([result.slug]);
  return result;
});

export const updateActivityAction = withAdmin(updateActivitySchema, async (input, admin) => {
  const result = await updateActivity(input, admin.id);
  if (result.ok) revalidateStorefront([result.slug]);
  return result;
});

export const runControlAction = withAdmin(controlSchema, async (input, admin) => {
  const result = await runControl(input, admin.id);
  if (result.ok) revalidateStorefront([result.slug]);
  return result;
});
