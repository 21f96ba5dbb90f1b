import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import { notFound } from "next/navigation";
import { requireAdmin } from "@/lib/auth/session";
import { getProduct } from "@/lib/admin/products";
import { minorToYuan } from "@/lib/admin/schemas";
import { ArchiveProductButton, ProductForm } from "@/components/admin/product-form";
import styles from "@/components/admin/admin.module.css";

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const [product, t] = await Promise.all([getProduct((await params).id), getTranslations("admin.titles")]);
  return { title: product ? t("product", { name: product.name }) : t("productFallback") };
}

type Props = { params: Promise<{ id: string }>; searchParams: Promise<{ created?: string }> };

export default async function ProductPage({ params, searchParams }: Props) {
  const { id } = await params;
  await requireAdmin(`/admin/products/${id}`);
  const product = await getProduct(id);
  if (!product) notFound();
  const created = (await searchParams).created === "1";
  const t = await getTranslations("admin.products");
  return (
    <>
      <div className={styles.header}>
        <h1>{product.name}</h1>
        <ArchiveProductButton id={product.id} archived={Boolean(product.archivedAt)} />
      </div>
      {created && (
        <p className="alert ok" data-testid="product-created">
          {t("created")}
        </p>
      )}
      {product.archivedAt && <p className="alert info">{t("archivedNote")}</p>}
      <ProductForm
        product={{
          id: product.id,
          name: product.name,
          description: product.description,
          listPrice: minorToYuan(product.listPrice),
          imageUrl: product.imageUrl,
          archived: Boolean(product.archivedAt),
        }}
      />
    </>
  );
}
