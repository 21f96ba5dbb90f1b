import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { requireAdmin } from "@/lib/auth/session";
import { getActivity } from "@/lib/admin/activities";
import { db } from "@/lib/db";
import { presaleCounts } from "@/lib/orders/presale";
import { listAudit } from "@/lib/admin/audit";
import { readDashboard } from "@/lib/admin/dashboard";
import { idSchema } from "@/lib/admin/schemas";
import { getFormat } from "@/lib/i18n/server";
import { AuditTable } from "@/components/admin/audit-table";
import { ActivityDashboard } from "@/components/admin/dashboard";
import { getTranslations } from "next-intl/server";
import styles from "@/components/admin/admin.module.css";
import { ChannelsForm, RebalanceForm } from "@/components/admin/channels-form";
import { listApiKeys, listChannels } from "@/lib/admin/channels";
import { WEB_CHANNEL, APP_CHANNEL } from "@/lib/flash/store/layout";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  const [a, t] = await Promise.all([idSchema.safeParse(id).success ? getActivity(id) : null, getTranslations("admin.titles")]);
  return { title: a ? t("dashboard", { title: a.title }) : t("dashboardFallback") };
}

export default async function ActivityPage({ params }: Props) {
  const { id } = await params;
  await requireAdmin(`/admin/activities/${id}`);
  if (!idSchema.safeParse(id).success) notFound();
  const [a, snapshot, audit, channels, keys, presale] = await Promise.all([
    getActivity(id),
    readDashboard(id),
    listAudit({ activityId: id, take: 50 }),
    listChannels(id),
    listApiKeys(),
    presaleCounts(db(), id),
  ]);
  if (!a || !snapshot) notFound();
  const [t, ta, f] = await Promise.all([getTranslations("admin.sale"), getTranslations("admin"), getFormat()]);
  const editable = a.status !== "ENDED" && a.status !== "CANCELLED";
  // Channels: the split is set before anyone buys; later, units move by rebalance (docs/channels.md).
  const splitEditable = editable && a.startAt.getTime() > snapshot.at && (snapshot.redis?.admittedTickets ?? 0) === 0;
  const partnerChannels = [...new Set(keys.filter((k) => !k.revokedAt).map((k) => k.channel))];
  const channelRows = channels.length
    ? channels.map(({ channel, share, volume, conversion, aov }) => ({ channel, share, volume, conversion, aov }))
    : [WEB_CHANNEL, APP_CHANNEL, ...partnerChannels].map((channel) => ({ channel, share: 0, volume: 0, conversion: 0, aov: 0 }));
  return (
    <>
      <div className={styles.header}>
        <div>
          <h1>{a.title}</h1>
          <p className="muted">
            {t("summary", {
              product: a.product.name,
              price: f.money(a.salePrice, a.product.currency),
              mode: ta(`mode.${a.deductionMode}`),
              limit: a.perUserLimit,
              start: f.dateTime(a.startAt),
              end: f.dateTime(a.endAt),
            })}
          </p>
          {a.presaleDeposit > 0 && a.presaleStartsAt && a.presaleEndsAt && (
            <p className="muted" data-testid="admin-presale">
              {t("presale", {
                deposit: f.money(a.presaleDeposit, a.product.currency),
                opens: f.dateTime(a.presaleStartsAt),
                closes: f.dateTime(a.presaleEndsAt),
                units: a.presaleUnits,
                minutes: Math.round(a.balanceWindowSec / 60),
                ...presale,
              })}
            </p>
          )}
        </div>
        <div className={styles.actions}>
          {a.status !== "DRAFT" && (
            <Link className="btn" href={`/activities/${a.slug}`}>
              {t("shopPage")}
            </Link>
          )}
          <Link className="btn" href={`/admin/orders?activityId=${a.id}`}>
            {t("orders")}
          </Link>
          {editable && (
            <Link className="btn" href={`/admin/activities/${a.id}/edit`}>
              {t("edit")}
            </Link>
          )}
        </div>
      </div>
      <ActivityDashboard initial={snapshot} />
      <h2>{t("channels")}</h2>
      {a.prequeueMinutes > 0 || a.stockSegments > 1 || a.presaleDeposit > 0 ? (
        <p className="muted">{t("channelsExclusive")}</p>
      ) : (
        <ChannelsForm
          activityId={a.id}
          sellable={snapshot.db.stock + snapshot.db.holdingUnits}
          rows={channelRows}
          borrowAfterSec={a.channelBorrowAfterSec}
          editable={splitEditable}
        />
      )}
      {editable && !splitEditable && channels.length > 1 && <RebalanceForm activityId={a.id} channels={channels.map((c) => c.channel)} />}
      <h2>{t("audit")}</h2>
      <AuditTable entries={audit} showActivity={false} />
    </>
  );
}
