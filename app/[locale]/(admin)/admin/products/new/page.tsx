import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import { requireAdmin } from "@/lib/auth/session";
import { ProductForm } from "@/components/admin/product-form";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("admin.titles"))("newProduct") };
}

export default async function NewProductPage() {
  await requireAdmin("/admin/products/new");
  const t = await getTranslations("admin.products");
  return (
    <>
      <h1>{t("new")}</h1>
      <ProductForm />
    </>
  );
}
