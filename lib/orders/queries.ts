import "server-only";
import { db } from "@/lib/db";

export async function listOrdersOfUser(userId: string) {
  return db().order.findMany({
    where: { userId },
    orderBy: { createdAt: "desc" },
    take: 100,
    select: {
      id: true,
      quantity: true,
      amount: true,
      status: true,
      payBy: true,
      createdAt: true,
      deposit: true,
      depositPaidAt: true,
      activity: { select: { title: true, slug: true, product: { select: { currency: true } } } },
    },
  });
}
