import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import { notFound } from "next/navigation";
import { requireAdmin } from "@/lib/auth/session";
import { getActivity, hasStarted, listSaleableProducts } from "@/lib/admin/activities";
import { minorToYuan } from "@/lib/admin/schemas";
import { ActivityForm } from "@/components/admin/activity-form";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const [a, t] = await Promise.all([getActivity((await params).id), getTranslations("admin.titles")]);
  return { title: a ? t("edit", { title: a.title }) : t("editFallback") };
}

export default async function EditActivityPage({ params }: Props) {
  const { id } = await params;
  await requireAdmin(`/admin/activities/${id}/edit`);
  const [a, products] = await Promise.all([getActivity(id), listSaleableProducts()]);
  if (!a) notFound();
  const t = await getTranslations("admin.sale");
  if (a.status === "ENDED" || a.status === "CANCELLED") {
    return (
      <>
        <h1>{a.title}</h1>
        <p className="alert info">{t("cannotEdit")}</p>
      </>
    );
  }
  // The server decides again on save (it also counts admissions in Redis); this only sets up the form.
  const locked = a.status === "LIVE" || hasStarted(a);
  const choices = products.some((p) => p.id === a.productId)
    ? products
    : [{ id: a.product.id, name: a.product.name }, ...products];
  return (
    <>
      <h1>{t("editTitle", { title: a.title })}</h1>
      <ActivityForm
        products={choices}
        locked={locked}
        activity={{
          id: a.id,
          title: a.title,
          productId: a.productId,
          salePrice: minorToYuan(a.salePrice),
          startAt: a.startAt.toISOString(),
          endAt: a.endAt.toISOString(),
          totalStock: a.totalStock,
          perUserLimit: a.perUserLimit,
          stockSegments: a.stockSegments,
          deductionMode: a.deductionMode,
          paymentWindowMin: Math.round(a.paymentWindowSec / 60),
          safetyStockPct: a.safetyStockPct,
          humanCheck: a.humanCheck,
          captchaDifficulty: a.captchaDifficulty,
          refuseNonPayers: a.refuseNonPayers,
          prequeueMinutes: a.prequeueMinutes,
          presaleDeposit: minorToYuan(a.presaleDeposit),
          presaleStartsAt: a.presaleStartsAt?.toISOString() ?? null,
          presaleEndsAt: a.presaleEndsAt?.toISOString() ?? null,
          presaleUnits: a.presaleUnits,
          balanceWindowMin: Math.round(a.balanceWindowSec / 60),
        }}
      />
    </>
  );
}
