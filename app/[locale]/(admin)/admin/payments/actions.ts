"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { withAdmin } from "@/lib/actions/with-admin";
import { clearNonPayer, runReconciliation } from "@/lib/admin/payments";

const clearNonPayerAction = withAdmin(z.object({ userId: z.string().min(1).max(64) }), (input, admin) =>
  clearNonPayer(input.userId, admin.id),
);
const reconcileAction = withAdmin(z.object({}), (_input, admin) => runReconciliation(admin.id));

export async function clearNonPayerForm(form: FormData): Promise<void> {
  await clearNonPayerAction(form);
  revalidatePath("/admin/payments");
}

export async function reconcileForm(form: FormData): Promise<void> {
  await reconcileAction(form);
  revalidatePath("/admin/payments");
}
