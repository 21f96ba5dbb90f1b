"use server";

import { revalidatePath } from "next/cache";
import { withAdmin } from "@/lib/actions/with-admin";
import { addApiKey, createKeySchema, removeApiKey, revokeKeySchema } from "@/lib/admin/channels";

// Partners' API keys (docs/channels.md): the new key is in the reply once, never again.
export const createApiKeyAction = withAdmin(createKeySchema, async (input, admin) => {
  const result = await addApiKey(input, admin.id);
  if (result.ok) revalidatePath("/admin/partners");
  return result;
});

export const revokeApiKeyAction = withAdmin(revokeKeySchema, async (input, admin) => {
  const result = await removeApiKey(input.id, admin.id);
  if (result.ok) revalidatePath("/admin/partners");
  return result;
});
