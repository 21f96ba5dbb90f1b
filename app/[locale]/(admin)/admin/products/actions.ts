"use server";

import { withAdmin } from "@/lib/actions/with-admin";
import { createProduct, setProductArchived, updateProduct } from "@/lib/admin/products";
import { revalidateStorefront } from "@/lib/admin/revalidate";
import { archiveProductSchema, productSchema, updateProductSchema } from "@/lib/admin/schemas";

export const createProductAction = withAdmin(productSchema, (input, admin) => createProduct(input, admin.id));

export const updateProductAction = withAdmin(updateProductSchema, async (input, admin) => {
  const result = await updateProduct(input, admin.id);
  if (result.ok) revalidateStorefront(result.activitySlugs);
  return result;
});

export const archiveProductAction = withAdmin(archiveProductSchema, async (input, admin) => {
  const result = await setProductArchived(input.id, input.archived, admin.id);
  if (result.ok) revalidateStorefront(result.activitySlugs);
  return result;
});
