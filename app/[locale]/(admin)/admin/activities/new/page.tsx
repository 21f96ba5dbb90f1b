import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import Link from "next/link";
import { requireAdmin } from "@/lib/auth/session";
import { listSaleableProducts } from "@/lib/admin/activities";
import { ActivityForm } from "@/components/admin/activity-form";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("admin.titles"))("newSale") };
}

export default async function NewActivityPage() {
  await requireAdmin("/admin/activities/new");
  const [products, t] = await Promise.all([listSaleableProducts(), getTranslations("admin.newSale")]);
  return (
    <>
      <h1>{t("title")}</h1>
      {products.length === 0 ? (
        <p className="alert info">
          {t("noProduct")} <Link href="/admin/products/new">{t("createFirst")}</Link>
        </p>
      ) : (
        <ActivityForm products={products} />
      )}
    </>
  );
}
