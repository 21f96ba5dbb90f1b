import "server-only";
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import type { OwnPresaleOrder, PresaleCode, PresaleView } from "@/lib/flash/wire";

/*
 * Pre-sale (预售, docs/presale.md). A sale may open a deposit phase before its flash sale. A deposit is
 * an ordinary order of the sale, written straight to PostgreSQL (no Redis admission: the sale is not
 * preheated yet), that takes its unit from `activities.stock` at once, counts against the per-user limit
 * in `activity_buyers`, and carries `deposit` (the part paid first). It is paid twice through the same
 * payment flow: the DEPOSIT (the order stays PENDING_PAYMENT, its pay-by moves to the balance deadline)
 * and the BALANCE (→ PAID). An order whose deposit or balance is not paid by its pay-by expires through
 * the ordinary expiry (lib/orders/lifecycle.ts), which returns the unit exactly once; a paid deposit is
 * then forfeited. A cancelled sale refunds paid deposits.
 *
 * Its sequence number is negative (-1, -2, …), so it never collides with the flash sale's admissions,
 * and its ticket id starts with `ps_`.
 */

export const PRESALE_TICKET_PREFIX = "ps_";

type Result = { ok: true; created: boolean; order: OwnPresaleOrder } | { ok: false; code: PresaleCode };

class Refused extends Error {
  constructor(readonly code: PresaleCode) {
    super(code);
  }
}

interface SaleRow {
  status: string;
  stock: number;
  perUserLimit: number;
  salePrice: number;
  deposit: number;
  opensAt: Date | null;
  closesAt: Date | null;
  units: number;
  windowSec: number;
  paymentWindowSec: number;
  epoch: number;
}

const own = (o: { id: string; status: string; amount: number; deposit: number | null; depositPaidAt: Date | null; payBy: Date | null }): OwnPresaleOrder => ({
  orderId: o.id,
  status: o.status,
  deposit: o.deposit ?? 0,
  balance: o.amount - (o.deposit ?? 0),
  depositPaid: o.depositPaidAt !== null,
  payBy: o.payBy?.toISOString() ?? null,
});

const ownSelect = { id: true, status: true, amount: true, deposit: true, depositPaidAt: true, payBy: true } as const;

/** Units reserved by pre-sale orders that still hold theirs. */
async function reservedUnits(prisma: Pick<PrismaClient, "$queryRaw">, activityId: string): Promise<number> {
  const [r] = await prisma.$queryRaw<{ n: number }[]>`
    SELECT coalesce(sum(quantity), 0)::int AS n FROM orders
    WHERE activity_id = ${activityId} AND deposit IS NOT NULL AND status IN ('PENDING_PAYMENT', 'PAID')`;
  return r?.n ?? 0;
}

/**
 * The shopper asks for a deposit: one pre-sale order of one unit per shopper and sale (a second call
 * answers the same order). Under the sale's row lock, so deposits, the preheat's rebuild and admin
 * edits of the sale are serialised: once the sale has been preheated (its stock lives in Redis),
 * no deposit is taken any more.
 */
export async function createDeposit(prisma: PrismaClient, activityId: string, userId: string, now = new Date()): Promise<Result> {
  try {
    return await prisma.$transaction(async (tx) => {
      const [a] = await tx.$queryRaw<SaleRow[]>`
        SELECT status::text AS status, stock, per_user_limit AS "perUserLimit", sale_price AS "salePrice",
               presale_deposit AS deposit, presale_starts_at AS "opensAt", presale_ends_at AS "closesAt",
               presale_units AS units, balance_window_sec AS "windowSec", payment_window_sec AS "paymentWindowSec",
               redis_epoch AS epoch
        FROM activities WHERE id = ${activityId} FOR UPDATE`;
      if (!a || a.status === "DRAFT") throw new Refused("NOT_FOUND");
      if (a.deposit <= 0 || !a.opensAt || !a.closesAt) throw new Refused("NO_PRESALE");
      const mine = await tx.order.findFirst({
        where: { activityId, userId, deposit: { not: null }, status: { in: ["PENDING_PAYMENT", "PAID"] } },
        select: ownSelect,
      });
      if (mine) return { ok: true as const, created: false, order: own(mine) };
      if (now < a.opensAt) throw new Refused("PRESALE_NOT_OPEN");
      if (now >= a.closesAt || a.status !== "SCHEDULED" || a.epoch > 0) throw new Refused("PRESALE_CLOSED");
      if ((await reservedUnits(tx, activityId)) + 1 > a.units || a.stock < 1) throw new Refused("PRESALE_SOLD_OUT");
      const took = await tx.$executeRaw`
        UPDATE activities SET stock = stock - 1, updated_at = now() WHERE id = ${activityId} AND stock >= 1`;
      if (took !== 1) throw new Refused("PRESALE_SOLD_OUT");
      // I3: the deposit's unit counts against the limit, by the same conditional upsert the workers use.
      const added = await tx.$executeRaw`
        INSERT INTO activity_buyers (activity_id, user_id, units) SELECT ${activityId}, ${userId}, 1 WHERE 1 <= ${a.perUserLimit}
        ON CONFLICT (activity_id, user_id) DO UPDATE SET units = activity_buyers.units + 1
        WHERE activity_buyers.units + 1 <= ${a.perUserLimit}`;
      if (added !== 1) throw new Refused("LIMIT_REACHED");
      const [seq] = await tx.$queryRaw<{ next: number }[]>`
        SELECT least(coalesce(min(sequence), 0), 0) - 1 AS next FROM orders WHERE activity_id = ${activityId}`;
      const payBy = new Date(Math.min(now.getTime() + a.paymentWindowSec * 1000, a.closesAt.getTime()));
      const order = await tx.order.create({
        data: {
          ticketId: PRESALE_TICKET_PREFIX + randomBytes(16).toString("base64url"),
          sequence: seq!.next,
          userId,
          activityId,
          quantity: 1,
          unitPrice: a.salePrice,
          amount: a.salePrice,
          deposit: a.deposit,
          payBy,
        },
        select: ownSelect,
      });
      return { ok: true as const, created: true, order: own(order) };
    });
  } catch (e) {
    if (e instanceof Refused) return { ok: false, code: e.code };
    throw e;
  }
}

/** The sale's pre-sale phase and the shopper's own pre-sale order (the latest, whatever its state). */
export async function presaleView(
  prisma: PrismaClient,
  activityId: string,
  userId: string,
): Promise<{ ok: true; view: PresaleView } | { ok: false; code: PresaleCode }> {
  const a = await prisma.activity.findUnique({
    where: { id: activityId },
    select: { status: true, presaleDeposit: true, presaleStartsAt: true, presaleEndsAt: true, presaleUnits: true, balanceWindowSec: true },
  });
  if (!a || a.status === "DRAFT") return { ok: false, code: "NOT_FOUND" };
  if (a.presaleDeposit <= 0 || !a.presaleStartsAt || !a.presaleEndsAt) return { ok: false, code: "NO_PRESALE" };
  const [reserved, mine] = await Promise.all([
    reservedUnits(prisma, activityId),
    prisma.order.findFirst({
      where: { activityId, userId, deposit: { not: null } },
      orderBy: { createdAt: "desc" },
      select: ownSelect,
    }),
  ]);
  return {
    ok: true,
    view: {
      activityId,
      deposit: a.presaleDeposit,
      opensAt: a.presaleStartsAt.toISOString(),
      closesAt: a.presaleEndsAt.toISOString(),
      unitsLeft: Math.max(0, a.presaleUnits - reserved),
      balanceWindowSec: a.balanceWindowSec,
      order: mine ? own(mine) : null,
    },
  };
}

/** The admin's view of a sale's pre-sale: its orders by state (units). */
export async function presaleCounts(
  prisma: Pick<PrismaClient, "$queryRaw">,
  activityId: string,
): Promise<{ depositDue: number; balanceDue: number; paid: number; forfeited: number; lapsed: number; cancelled: number }> {
  const [r] = await prisma.$queryRaw<
    { depositDue: number; balanceDue: number; paid: number; forfeited: number; lapsed: number; cancelled: number }[]
  >`
    SELECT coalesce(sum(quantity) FILTER (WHERE status = 'PENDING_PAYMENT' AND deposit_paid_at IS NULL), 0)::int AS "depositDue",
           coalesce(sum(quantity) FILTER (WHERE status = 'PENDING_PAYMENT' AND deposit_paid_at IS NOT NULL), 0)::int AS "balanceDue",
           coalesce(sum(quantity) FILTER (WHERE status = 'PAID'), 0)::int AS paid,
           coalesce(sum(quantity) FILTER (WHERE status = 'EXPIRED' AND deposit_paid_at IS NOT NULL), 0)::int AS forfeited,
           coalesce(sum(quantity) FILTER (WHERE status = 'EXPIRED' AND deposit_paid_at IS NULL), 0)::int AS lapsed,
           coalesce(sum(quantity) FILTER (WHERE status IN ('CANCELLED', 'REFUNDED')), 0)::int AS cancelled
    FROM orders WHERE activity_id = ${activityId} AND deposit IS NOT NULL`;
  return r ?? { depositDue: 0, balanceDue: 0, paid: 0, forfeited: 0, lapsed: 0, cancelled: 0 };
}
