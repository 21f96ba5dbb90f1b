import "server-only";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import type { RedisClient } from "@/lib/redis-connect";
import {
  ACTIVE_SET,
  joinWaitlist,
  offerFromWaitlist,
  publishChange,
  readState,
  readWaitlist,
  type WaitlistJoinReply,
} from "@/lib/flash/store";
import type { WaitlistView } from "@/lib/flash/wire";
import { env } from "@/lib/env";
import { formatDateTime } from "@/lib/format";
import { errorText, log } from "@/lib/log";
import { sendMail } from "@/lib/mail/mailer";

/*
 * The waitlist of a sold-out sale (docs/fair-entry.md): shoppers join in order; every unit that
 * comes back (an expired or cancelled order, a refused ticket, a restock) is offered to the next one
 * in line, one unit each, for WAITLIST_OFFER_SEC; an offer not taken in time lapses and the unit goes
 * to the next. The rules live in lib/flash/waitlist.lua (join, offer) and admission.lua (the crowd
 * gets nothing while anyone waits; an offered shopper takes their unit).
 */

const wlLog = log.child({ component: "waitlist" });

export async function waitlistView(redis: RedisClient, activityId: string, userId: string): Promise<WaitlistView> {
  const w = await readWaitlist(redis, activityId, userId);
  return {
    activityId,
    position: w.position,
    offerUntil: w.offerUntilMs && w.offerUntilMs > Date.now() ? new Date(w.offerUntilMs).toISOString() : null,
    waiting: w.waiting,
  };
}

export function join(redis: RedisClient, activityId: string, userId: string, now = Date.now()): Promise<WaitlistJoinReply> {
  return joinWaitlist(redis, activityId, userId, now);
}

/**
 * One pass over the running sales (the workers, every second): lapses offers past their deadline and
 * makes new ones for units nobody holds; mails each new offer when SMTP is configured. Safe to run in
 * every worker at once: each sale's pass is one script, and an offer is made once.
 */
export async function runWaitlists(
  prisma: Pick<PrismaClient, "user" | "activity">,
  redis: RedisClient,
  now = Date.now(),
): Promise<{ offered: number; lapsed: number }> {
  const windowMs = env().WAITLIST_OFFER_SEC * 1000;
  let offered = 0;
  let lapsed = 0;
  for (const activityId of await redis.smembers(ACTIVE_SET)) {
    const state = await readState(redis, activityId);
    if (!state || state.waitlistHold <= 0) continue;
    const r = await offerFromWaitlist(redis, activityId, now, windowMs);
    offered += r.offered.length;
    lapsed += r.lapsed.length;
    if (r.offered.length || r.lapsed.length) {
      wlLog.info({ activityId, offered: r.offered.length, lapsed: r.lapsed.length }, "waitlist offers");
      await publishChange(redis, activityId, "waitlist");
    }
    if (r.offered.length) await mailOffers(prisma, activityId, r.offered, new Date(now + windowMs));
  }
  return { offered, lapsed };
}

/** "A unit is held for you": best effort, only when SMTP is set up; the sale page shows the offer regardless. */
async function mailOffers(prisma: Pick<PrismaClient, "user" | "activity">, activityId: string, userIds: string[], until: Date) {
  const { SMTP_URL, PUBLIC_BASE_URL, NEXTAUTH_URL } = env();
  const base = PUBLIC_BASE_URL ?? NEXTAUTH_URL;
  if (!SMTP_URL || !base) return;
  const [sale, users] = await Promise.all([
    prisma.activity.findUnique({ where: { id: activityId }, select: { title: true, slug: true } }),
    prisma.user.findMany({ where: { id: { in: userIds } }, select: { id: true, email: true } }),
  ]);
  if (!sale) return;
  // Loaded here, not at the top: the worker imports this module, and the catalogue's routing reads the
  // whole environment at import, which would turn the worker's one-line start-up error into a stack.
  const [{ translator }, { defaultLocale, shopTimeZone }] = await Promise.all([import("@/lib/i18n/messages"), import("@/lib/i18n/routing")]);
  const t = translator(defaultLocale, "mail");
  const link = new URL(`/activities/${sale.slug}`, base).toString();
  await Promise.all(
    users.map((u) =>
      sendMail({ to: u.email, subject: t("offerSubject", { sale: sale.title }), text: t("offerText", { sale: sale.title, link, until: formatDateTime(until, defaultLocale, shopTimeZone) }) }).catch(
        (e: unknown) => wlLog.error({ activityId, userId: u.id, err: errorText(e) }, "offer mail failed"),
      ),
    ),
  );
}
