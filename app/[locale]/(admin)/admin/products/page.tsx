import type { Metadata } from "next";
import Link from "next/link";
import { requireAdmin } from "@/lib/auth/session";
import { listProducts } from "@/lib/admin/products";
import { getTranslations } from "next-intl/server";
import { getFormat } from "@/lib/i18n/server";
import styles from "@/components/admin/admin.module.css";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("admin.titles"))("products") };
}

export default async function ProductsPage() {
  await requireAdmin("/admin/products");
  const [products, t, f] = await Promise.all([
    listProducts({ includeArchived: true }),
    getTranslations("admin.products"),
    getFormat(),
  ]);
  return (
    <>
      <div className={styles.header}>
        <h1>{t("title")}</h1>
        <Link className="btn primary" href="/admin/products/new">
          {t("new")}
        </Link>
      </div>
      <table>
        <thead>
          <tr>
            <th>{t("image")}</th>
            <th>{t("name")}</th>
            <th>{t("listPrice")}</th>
            <th>{t("sales")}</th>
            <th>{t("state")}</th>
          </tr>
        </thead>
        <tbody>
          {products.map((p) => (
            <tr key={p.id} data-testid="product-row">
              <td>{p.imageUrl ? <img className={styles.thumb} src={p.imageUrl} alt="" /> : null}</td>
              <td>
                <Link href={`/admin/products/${p.id}`}>{p.name}</Link>
              </td>
              <td>{f.money(p.listPrice, p.currency)}</td>
              <td>{p.activities}</td>
              <td>
                {p.archivedAt ? <span className="badge">{t("archived")}</span> : <span className="badge ok">{t("onSale")}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
