import "server-only";
import { db } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";
import { csvLine } from "@/lib/admin/csv";
import type { OrderFilter } from "@/lib/admin/schemas";

export const ORDERS_PAGE_SIZE = 50;

function whereOf(f: Omit<OrderFilter, "page">): Prisma.OrderWhereInput {
  return {
    ...(f.activityId ? { activityId: f.activityId } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.email ? { user: { email: { contains: f.email, mode: "insensitive" } } } : {}),
  };
}

const select = {
  id: true,
  sequence: true,
  quantity: true,
  unitPrice: true,
  amount: true,
  status: true,
  payBy: true,
  paidAt: true,
  closeReason: true,
  createdAt: true,
  user: { select: { email: true } },
  payments: {
    where: { status: { in: ["SUCCEEDED", "REFUNDED"] } },
    select: { providerRef: true, status: true, refundReason: true },
    orderBy: { createdAt: "asc" },
  },
  activity: { select: { id: true, title: true, product: { select: { currency: true } } } },
} satisfies Prisma.OrderSelect;

export type AdminOrderRow = Prisma.OrderGetPayload<{ select: typeof select }>;

export async function listOrders(
  f: OrderFilter,
): Promise<{ rows: AdminOrderRow[]; total: number; page: number; pages: number }> {
  const where = whereOf(f);
  const total = await db().order.count({ where });
  const pages = Math.max(1, Math.ceil(total / ORDERS_PAGE_SIZE));
  const page = Math.min(f.page, pages);
  const rows = await db().order.findMany({
    where,
    select,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    skip: (page - 1) * ORDERS_PAGE_SIZE,
    take: ORDERS_PAGE_SIZE,
  });
  return { rows, total, page, pages };
}

export const CSV_HEADER = [
  "order_id",
  "activity_id",
  "activity",
  "sequence",
  "user_email",
  "quantity",
  "unit_price",
  "amount",
  "currency",
  "status",
  "pay_by",
  "paid_at",
  "created_at",
  "close_reason",
  "payment_ref",
  "refund",
];

/** The payment that paid an order, and what is owed or returned (for the console and the CSV). */
export function paymentColumns(o: Pick<AdminOrderRow, "payments">): { paymentRef: string; refund: string } {
  const kept = o.payments.find((p) => p.status === "SUCCEEDED" && !p.refundReason);
  const refunds = o.payments.filter((p) => p.refundReason);
  return {
    paymentRef: kept?.providerRef ?? "",
    refund: refunds.map((p) => `${p.status === "REFUNDED" ? "refunded" : "owed"}:${p.refundReason}`).join(" "),
  };
}

/**
 * The orders matching a filter as CSV lines, header first, read in keyset-paginated batches so an
 * export of any size streams in constant memory. Money is in minor units, as stored.
 */
export async function* exportOrdersCsv(f: Omit<OrderFilter, "page">, batch = 1000): AsyncGenerator<string> {
  yield csvLine(CSV_HEADER);
  const where = whereOf(f);
  let cursor: string | undefined;
  for (;;) {
    const rows = await db().order.findMany({
      where,
      select,
      orderBy: { id: "asc" },
      take: batch,
      ...(cursor ? { skip: 1, cursor: { id: cursor } } : {}),
    });
    if (rows.length === 0) return;
    yield rows
      .map((o) =>
        csvLine([
          o.id,
          o.activity.id,
          o.activity.title,
          o.sequence,
          o.user.email,
          o.quantity,
          o.unitPrice,
          o.amount,
          o.activity.product.currency,
          o.status,
          o.payBy?.toISOString() ?? "",
          o.paidAt?.toISOString() ?? "",
          o.createdAt.toISOString(),
          o.closeReason ?? "",
          paymentColumns(o).paymentRef,
          paymentColumns(o).refund,
        ]),
      )
      .join("");
    cursor = rows[rows.length - 1]!.id;
    if (rows.length < batch) return;
  }
}
