import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getTranslations } from "next-intl/server";
import { OrderDetail } from "@/components/orders/order-detail";
import { requireShopper } from "@/lib/auth/session";
import { orderView } from "@/lib/orders/view";
import { markReturned } from "@/lib/payments/checkout";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("order"))("title") };
}

type Props = {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ checkout?: string; delivery?: string }>;
};

export default async function OrderPage({ params, searchParams }: Props) {
  const { id } = await params;
  const { checkout, delivery } = await searchParams;
  const user = await requireShopper(`/orders/${id}`);
  // Back from the provider's page: from now on, no notification within N s triggers an active query.
  if (checkout === "return") await markReturned(user.id, id);
  const view = await orderView(user.id, id);
  if (!view) notFound();
  const knob = delivery === "late" || delivery === "twice" || delivery === "never" ? delivery : undefined;
  return <OrderDetail initial={view} delivery={knob} />;
}
