import "server-only";
import { db } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";
import { csvLine } from "@/lib/admin/csv";
import { minorToYuan, type OrderFilter } from "@/lib/admin/schemas";
import { env } from "@/lib/env";
import { dateToZonedInput } from "@/lib/format";

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
  number: true,
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
    // Newest first by order number (the order the workers wrote them in), not by queue sequence.
    orderBy: { number: "desc" },
    skip: (page - 1) * ORDERS_PAGE_SIZE,
    take: ORDERS_PAGE_SIZE,
  });
  return { rows, total, page, pages };
}

/** The export's columns; times are wall-clock times in the shop's zone, named in their header. */
export function csvHeader(timeZone: string): string[] {
  return [
    "order_no",
    "order_id",
    "activity_id",
    "activity",
    "queue_sequence",
    "user_email",
    "quantity",
    "unit_price_yuan",
    "amount_yuan",
    "currency",
    "status",
    `pay_by (${timeZone})`,
    `paid_at (${timeZone})`,
    `created_at (${timeZone})`,
    "close_reason",
    "payment_ref",
    "refund",
  ];
}

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
 * export of any size streams in constant memory. Money in yuan ("9.90"), times in the shop's zone
 * ("2026-12-01 17:14:53"), as a spreadsheet shows them.
 */
export async function* exportOrdersCsv(f: Omit<OrderFilter, "page">, batch = 1000): AsyncGenerator<string> {
  const zone = env().SHOP_TIME_ZONE;
  const time = (d: Date | null) => (d ? dateToZonedInput(d, zone).replace("T", " ") : "");
  yield csvLine(csvHeader(zone));
  const where = whereOf(f);
  let cursor: number | undefined;
  for (;;) {
    const rows = await db().order.findMany({
      where,
      select,
      orderBy: { number: "asc" },
      take: batch,
      ...(cursor ? { skip: 1, cursor: { number: cursor } } : {}),
    });
    if (rows.length === 0) return;
    yield rows
      .map((o) =>
        csvLine([
          o.number,
          o.id,
          o.activity.id,
          o.activity.title,
          o.sequence,
          o.user.email,
          o.quantity,
          minorToYuan(o.unitPrice),
          minorToYuan(o.amount),
          o.activity.product.currency,
          o.status,
          time(o.payBy),
          time(o.paidAt),
          time(o.createdAt),
          o.closeReason ?? "",
          paymentColumns(o).paymentRef,
          paymentColumns(o).refund,
        ]),
      )
      .join("");
    cursor = rows[rows.length - 1]!.number;
    if (rows.length < batch) return;
  }
}
