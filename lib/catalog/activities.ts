import "server-only";
import { cache } from "react";
import { db } from "@/lib/db";
import { sellableUnits } from "@/lib/catalog/stock";
import type { ActivityStatus, DeductionMode } from "@/lib/generated/prisma/enums";

/** What a storefront page shows of an activity: the same for every visitor, so it can be cached. */
export interface ActivityView {
  id: string;
  slug: string;
  title: string;
  status: ActivityStatus;
  salePrice: number;
  startAt: string;
  endAt: string;
  totalStock: number;
  sellable: number;
  perUserLimit: number;
  deductionMode: DeductionMode;
  paymentWindowSec: number;
  /** Fair entry: the pre-queue's length before the start, minutes (0: none). */
  prequeueMinutes: number;
  /** Pre-sale (docs/presale.md): the deposit and its window; null when the sale has none. */
  presale: { deposit: number; opensAt: string; closesAt: string; balanceWindowSec: number } | null;
  product: { name: string; description: string; imageUrl: string | null; listPrice: number; currency: string };
}

const include = { product: true } as const;

type Row = NonNullable<Awaited<ReturnType<typeof findBySlug>>>;
const findBySlug = (slug: string) => db().activity.findUnique({ where: { slug }, include });

function toView(a: Row): ActivityView {
  return {
    id: a.id,
    slug: a.slug,
    title: a.title,
    status: a.status,
    salePrice: a.salePrice,
    startAt: a.startAt.toISOString(),
    endAt: a.endAt.toISOString(),
    totalStock: a.totalStock,
    sellable: sellableUnits(a.totalStock, a.safetyStockPct),
    perUserLimit: a.perUserLimit,
    deductionMode: a.deductionMode,
    paymentWindowSec: a.paymentWindowSec,
    prequeueMinutes: a.prequeueMinutes,
    presale:
      a.presaleDeposit > 0 && a.presaleStartsAt && a.presaleEndsAt
        ? {
            deposit: a.presaleDeposit,
            opensAt: a.presaleStartsAt.toISOString(),
            closesAt: a.presaleEndsAt.toISOString(),
            balanceWindowSec: a.balanceWindowSec,
          }
        : null,
    product: {
      name: a.product.name,
      description: a.product.description,
      imageUrl: a.product.imageUrl,
      listPrice: a.product.listPrice,
      currency: a.product.currency,
    },
  };
}

/** One query per request however often it is asked (generateMetadata and the page both do). */
export const getActivityBySlug = cache(async (slug: string): Promise<ActivityView | null> => {
  const a = await findBySlug(slug);
  if (!a || a.status === "DRAFT") return null;
  return toView(a);
});

/**
 * Sales on the storefront: live and upcoming first (soonest start first), then the most recently
 * ended. Two queries, so a long history of ended sales never crowds the current ones off the page.
 */
export async function listStorefrontActivities(): Promise<ActivityView[]> {
  const shown = { product: { archivedAt: null } };
  const [current, ended] = await Promise.all([
    db().activity.findMany({
      where: { status: { in: ["SCHEDULED", "LIVE"] }, ...shown },
      include,
      orderBy: [{ startAt: "asc" }],
      take: 50,
    }),
    db().activity.findMany({ where: { status: "ENDED", ...shown }, include, orderBy: [{ endAt: "desc" }], take: 12 }),
  ]);
  return [...current, ...ended].map(toView);
}

export async function listStorefrontSlugs(): Promise<string[]> {
  const rows = await db().activity.findMany({ where: { status: { in: ["SCHEDULED", "LIVE"] } }, select: { slug: true } });
  return rows.map((r) => r.slug);
}
