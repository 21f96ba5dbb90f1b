import type { Metadata } from "next";
import Link from "next/link";
import { requireAdmin } from "@/lib/auth/session";
import { listProducts } from "@/lib/admin/products";
import { formatMoney } from "@/lib/format";
import styles from "@/components/admin/admin.module.css";

export const metadata: Metadata = { title: "Products · Admin" };

export default async function ProductsPage() {
  await requireAdmin("/admin/products");
  const products = await listProducts({ includeArchived: true });
  return (
    <>
      <div className={styles.header}>
        <h1>Products</h1>
        <Link className="btn primary" href="/admin/products/new">
          New product
        </Link>
      </div>
      <table>
        <thead>
          <tr>
            <th>Image</th>
            <th>Name</th>
            <th>List price</th>
            <th>Sales</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {products.map((p) => (
            <tr key={p.id} data-testid="product-row">
              <td>{p.imageUrl ? <img className={styles.thumb} src={p.imageUrl} alt="" /> : null}</td>
              <td>
                <Link href={`/admin/products/${p.id}`}>{p.name}</Link>
              </td>
              <td>{formatMoney(p.listPrice, p.currency)}</td>
              <td>{p.activities}</td>
              <td>
                {p.archivedAt ? <span className="badge">archived</span> : <span className="badge ok">on sale</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
