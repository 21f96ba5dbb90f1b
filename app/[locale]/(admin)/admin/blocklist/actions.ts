"use server";

import { withAdmin } from "@/lib/actions/with-admin";
import { addBlock, addBlockSchema, removeBlock, removeBlockSchema } from "@/lib/gate/blocklist";
import { gate } from "@/lib/gate";
import { revalidatePath } from "next/cache";

export const addBlockAction = withAdmin(addBlockSchema, async (input, admin) => {
  const result = await addBlock(input, admin.id);
  if (result.ok) {
    // This process applies it at once; the others within their reload period.
    await gate().blocklist.reload();
    revalidatePath("/admin/blocklist");
  }
  return result;
});

export const removeBlockAction = withAdmin(removeBlockSchema, async (input, admin) => {
  const result = await removeBlock(input.id, admin.id);
  if (result.ok) {
    await gate().blocklist.reload();
    revalidatePath("/admin/blocklist");
  }
  return result;
});
