import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { requireAdmin } from "@/lib/auth/session";
import { getProduct } from "@/lib/admin/products";
import { minorToYuan } from "@/lib/admin/schemas";
import { ArchiveProductButton, ProductForm } from "@/components/admin/product-form";
import styles from "@/components/admin/admin.module.css";

export const metadata: Metadata = { title: "Product · Admin" };

type Props = { params: Promise<{ id: string }>; searchParams: Promise<{ created?: string }> };

export default async function ProductPage({ params, searchParams }: Props) {
  const { id } = await params;
  await requireAdmin(`/admin/products/${id}`);
  const product = await getProduct(id);
  if (!product) notFound();
  const created = (await searchParams).created === "1";
  return (
    <>
      <div className={styles.header}>
        <h1>{product.name}</h1>
        <ArchiveProductButton id={product.id} archived={Boolean(product.archivedAt)} />
      </div>
      {created && (
        <p className="alert ok" data-testid="product-created">
          Product created.
        </p>
      )}
      {product.archivedAt && <p className="alert info">Archived: hidden from the shop and from new sales.</p>}
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
