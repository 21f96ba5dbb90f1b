import type { Metadata } from "next";
import Link from "next/link";
import { requireAdmin } from "@/lib/auth/session";
import { listSaleableProducts } from "@/lib/admin/activities";
import { ActivityForm } from "@/components/admin/activity-form";

export const metadata: Metadata = { title: "New sale · Admin" };

export default async function NewActivityPage() {
  await requireAdmin("/admin/activities/new");
  const products = await listSaleableProducts();
  return (
    <>
      <h1>New sale</h1>
      {products.length === 0 ? (
        <p className="alert info">
          There is no product to sell yet. <Link href="/admin/products/new">Create one first.</Link>
        </p>
      ) : (
        <ActivityForm products={products} />
      )}
    </>
  );
}
