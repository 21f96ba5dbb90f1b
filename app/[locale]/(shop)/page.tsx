import Link from "next/link";
import { getTranslations, setRequestLocale } from "next-intl/server";
import { listStorefrontActivities } from "@/lib/catalog/activities";
import { SaleBadge } from "@/components/flash/sale-badge";
import { LocalTime } from "@/components/i18n/format";
import type { Locale } from "@/lib/i18n/locales";
import { getFormat } from "@/lib/i18n/server";

// Static and shared by everyone (one rendering per locale); admin changes revalidate it at once, this is the safety net.
export const revalidate = 30;

export async function generateMetadata({ params }: { params: Promise<{ locale: Locale }> }) {
  const t = await getTranslations({ locale: (await params).locale, namespace: "shop" });
  return { title: t("homeTitle") };
}

export default async function HomePage({ params }: { params: Promise<{ locale: Locale }> }) {
  setRequestLocale((await params).locale);
  const [activities, t, f] = await Promise.all([listStorefrontActivities(), getTranslations("shop"), getFormat()]);
  return (
    <>
      <h1>{t("homeTitle")}</h1>
      {activities.length === 0 && <p className="muted">{t("noSales")}</p>}
      <div className="grid">
        {activities.map((a) => (
          <Link key={a.id} href={`/activities/${a.slug}`} className="card activity-card" data-testid="activity-card">
            {a.product.imageUrl && <img src={a.product.imageUrl} alt="" />}
            <strong>{a.title}</strong>
            <span className="muted">{a.product.name}</span>
            <span>
              <span className="price">{f.money(a.salePrice, a.product.currency)}</span>
              <span className="list-price">{f.money(a.product.listPrice, a.product.currency)}</span>
            </span>
            <span>
              <SaleBadge activityId={a.id} status={a.status} startAt={a.startAt} endAt={a.endAt} />{" "}
              <span className="muted">
                <LocalTime value={a.startAt} />
              </span>
            </span>
          </Link>
        ))}
      </div>
    </>
  );
}
