import type { Metadata } from "next";
import { requireAdmin } from "@/lib/auth/session";
import { ProductForm } from "@/components/admin/product-form";

export const metadata: Metadata = { title: "New product · Admin" };

export default async function NewProductPage() {
  await requireAdmin("/admin/products/new");
  return (
    <>
      <h1>New product</h1>
      <ProductForm />
    </>
  );
}
