"use server";

import { revalidatePath } from "next/cache";
import { withAdmin } from "@/lib/actions/with-admin";
import { proposeChannels, proposeSchema, rebalance, rebalanceSchema, saveChannels, saveChannelsSchema } from "@/lib/admin/channels";

// Channel allocation (docs/channels.md): propose a split, save it, move units between channels.
export const proposeChannelsAction = withAdmin(proposeSchema, (input) => proposeChannels(input));

export const saveChannelsAction = withAdmin(saveChannelsSchema, async (input, admin) => {
  const result = await saveChannels(input, admin.id);
  if (result.ok) revalidatePath(`/admin/activities/${input.activityId}`);
  return result;
});

export const rebalanceAction = withAdmin(rebalanceSchema, async (input, admin) => {
  const result = await rebalance(input, admin.id);
  if (result.ok) revalidatePath(`/admin/activities/${input.activityId}`);
  return result;
});
