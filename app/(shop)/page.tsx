import Link from "next/link";
import { listStorefrontActivities } from "@/lib/catalog/activities";
import { formatMoney } from "@/lib/format";
import { SaleBadge } from "@/components/flash/sale-badge";

// Static and shared by everyone; admin changes revalidate it at once, this is the safety net.
export const revalidate = 30;

export default async function HomePage() {
  const activities = await listStorefrontActivities();
  return (
    <>
      <h1>Flash sales</h1>
      {activities.length === 0 && <p className="muted">No sales right now. Check back soon.</p>}
      <div className="grid">
        {activities.map((a) => (
          <Link key={a.id} href={`/activities/${a.slug}`} className="card activity-card" data-testid="activity-card">
            {a.product.imageUrl && <img src={a.product.imageUrl} alt="" />}
            <strong>{a.title}</strong>
            <span className="muted">{a.product.name}</span>
            <span>
              <span className="price">{formatMoney(a.salePrice, a.product.currency)}</span>
              <span className="list-price">{formatMoney(a.product.listPrice, a.product.currency)}</span>
            </span>
            <span>
              <SaleBadge activityId={a.id} status={a.status} startAt={a.startAt} endAt={a.endAt} />{" "}
              <span className="muted">
                <time dateTime={a.startAt}>{new Date(a.startAt).toUTCString()}</time>
              </span>
            </span>
          </Link>
        ))}
      </div>
    </>
  );
}
