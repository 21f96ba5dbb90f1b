import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getTranslations } from "next-intl/server";
import { BuyRefused, TicketStatus } from "@/components/flash/ticket-status";
import { requireShopper } from "@/lib/auth/session";
import { getActivityBySlug } from "@/lib/catalog/activities";
import { REFUSAL_CODES, type RefusalCode } from "@/lib/flash/codes";
import { flash } from "@/lib/flash/instance";

// The buy form's answer without JavaScript (the server action redirects here). Private to its
// shopper: reading the session makes it dynamic, so Next serves it `private, no-store`.
export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("buy"))("resultTitle"), robots: { index: false } };
}

type Props = {
  params: Promise<{ slug: string }>;
  searchParams: Promise<{ ticket?: string | string[]; refused?: string | string[] }>;
};

export default async function BuyResultPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const { ticket, refused } = await searchParams;
  const user = await requireShopper(`/activities/${slug}`);
  const activity = await getActivityBySlug(slug);
  if (!activity) notFound();
  const t = await getTranslations("buy");

  let outcome;
  if (typeof refused === "string" && (REFUSAL_CODES as readonly string[]).includes(refused)) {
    outcome = <BuyRefused code={refused as RefusalCode} />;
  } else if (typeof ticket === "string") {
    // Someone else's ticket and a missing one look the same (I5).
    const view = await flash().core.ticket(ticket, user.id);
    if (!view) notFound();
    outcome = (
      <>
        {/* Without JavaScript the page itself asks again until the queue answers. */}
        {view.status === "QUEUED" && <meta httpEquiv="refresh" content="1" />}
        <TicketStatus view={view} />
      </>
    );
  } else {
    notFound();
  }

  return (
    <article className="card">
      <h1>{activity.title}</h1>
      <div aria-live="polite" data-testid="buy-status">
        {outcome}
      </div>
      <p>
        <Link href={`/activities/${activity.slug}`}>{t("backToSale")}</Link>
      </p>
    </article>
  );
}
