import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getTranslations, setRequestLocale } from "next-intl/server";
import { buy } from "@/app/[locale]/(shop)/activities/[slug]/actions";
import { BuyPanel } from "@/components/flash/buy-panel";
import { LocalTime } from "@/components/i18n/format";
import { getActivityBySlug } from "@/lib/catalog/activities";
import type { Locale } from "@/lib/i18n/locales";
import { getFormat } from "@/lib/i18n/server";

// Static per activity and locale: built on first request, cached (CDN-cacheable), and revalidated
// when an admin edits the activity. The locale comes from the URL segment the proxy rewrote to, not
// from a cookie read here, so the page stays static (docs/i18n.md). Nothing per-user is rendered
// here; the buy panel loads that after hydration, and the buy form posted without JavaScript
// answers on the private result page (./result). Times render in the shop's zone and move to the
// viewer's after hydration (LocalTime).
export const revalidate = 300;
export const dynamicParams = true;

export function generateStaticParams(): { slug: string }[] {
  return [];
}

type Params = { params: Promise<{ slug: string; locale: Locale }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { slug, locale } = await params;
  const a = await getActivityBySlug(slug);
  // No such sale: the page renders not-found, whose own metadata Next.js does not apply.
  if (!a) return { title: (await getTranslations({ locale, namespace: "errors" }))("notFoundTitle") };
  return { title: a.title };
}

export default async function ActivityPage({ params }: Params) {
  const { slug, locale } = await params;
  setRequestLocale(locale);
  const a = await getActivityBySlug(slug);
  if (!a) notFound();
  const [t, f] = await Promise.all([getTranslations("shop"), getFormat()]);
  return (
    <article className="product-layout">
      <div>
        {a.product.imageUrl ? (
          <img className="product-image" src={a.product.imageUrl} alt={a.product.name} />
        ) : (
          <div className="product-image" aria-hidden="true" />
        )}
      </div>
      <div>
        <h1>{a.title}</h1>
        <p className="muted">
          {a.product.name} · {t("listPrice")} <span className="list-price">{f.money(a.product.listPrice, a.product.currency)}</span>
        </p>
        <p>{a.product.description}</p>
        <p className="muted" data-testid="sale-times">
          {t.rich("startsEnds", {
            start: () => <LocalTime value={a.startAt} />,
            end: () => <LocalTime value={a.endAt} />,
          })}
        </p>
        <BuyPanel
          activityId={a.id}
          status={a.status}
          slug={a.slug}
          startAt={a.startAt}
          endAt={a.endAt}
          perUserLimit={a.perUserLimit}
          prequeueMinutes={a.prequeueMinutes}
          presale={a.presale}
          sellable={a.sellable}
          salePrice={a.salePrice}
          currency={a.product.currency}
          buyAction={buy}
        />
      </div>
    </article>
  );
}
