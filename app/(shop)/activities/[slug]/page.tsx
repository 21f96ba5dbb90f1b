import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { buy } from "@/app/(shop)/activities/[slug]/actions";
import { BuyPanel } from "@/components/flash/buy-panel";
import { getActivityBySlug } from "@/lib/catalog/activities";
import { formatMoney } from "@/lib/format";

// Static per activity: built on first request, cached (CDN-cacheable), and revalidated when an
// admin edits the activity. Nothing per-user is rendered here; the buy panel loads that after hydration,
// and the buy form posted without JavaScript answers on the private result page (./result).
export const revalidate = 300;
export const dynamicParams = true;

export function generateStaticParams(): { slug: string }[] {
  return [];
}

type Params = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const a = await getActivityBySlug((await params).slug);
  return { title: a?.title ?? "Sale" };
}

export default async function ActivityPage({ params }: Params) {
  const a = await getActivityBySlug((await params).slug);
  if (!a) notFound();
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
          {a.product.name} · list price <span className="list-price">{formatMoney(a.product.listPrice, a.product.currency)}</span>
        </p>
        <p>{a.product.description}</p>
        <p className="muted">
          Starts <time dateTime={a.startAt}>{new Date(a.startAt).toUTCString()}</time> · ends{" "}
          <time dateTime={a.endAt}>{new Date(a.endAt).toUTCString()}</time>
        </p>
        <BuyPanel
          activityId={a.id}
          status={a.status}
          slug={a.slug}
          startAt={a.startAt}
          endAt={a.endAt}
          perUserLimit={a.perUserLimit}
          sellable={a.sellable}
          salePrice={a.salePrice}
          currency={a.product.currency}
          buyAction={buy}
        />
      </div>
    </article>
  );
}
