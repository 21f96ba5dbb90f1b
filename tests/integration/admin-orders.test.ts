import { afterAll, describe, expect, it, vi } from "vitest";

const h = vi.hoisted(() => ({ user: null as null | { id: string; role: "ADMIN" } }));
vi.mock("@/lib/auth/session", () => ({ currentUser: async () => h.user }));

import { db } from "@/lib/db";
import { listOrders, ORDERS_PAGE_SIZE } from "@/lib/admin/orders";
import * as exportRoute from "@/app/api/admin/orders/export/route";
import { createActivity, createCores, createUsers, drain, tokenFor } from "../support/flash";
import { createAdmin, retire } from "../support/admin-fixtures";

let activityId = "";
afterAll(async () => retire(activityId));

describe("orders in the console", () => {
  it("filter by sale, status and email, paginate, and export the same rows as CSV", async () => {
    const a = await createActivity({ stock: 60, limit: 1 });
    activityId = a.id;
    const users = await createUsers(ORDERS_PAGE_SIZE + 5);
    const { cores, close } = createCores(1);
    await Promise.all(
      users.map((u, i) =>
        cores[0]!.admit(a.id, u, { quantity: 1, idempotencyKey: `o-${i}-abcdef`, token: tokenFor(a, u) }),
      ),
    );
    close();
    await drain(a.id);
    const emails = await db().user.findMany({ where: { id: { in: users } }, select: { id: true, email: true } });
    const one = emails[0]!;
    await db().order.updateMany({ where: { activityId: a.id, userId: one.id }, data: { status: "PAID", paidAt: new Date() } });

    const page1 = await listOrders({ activityId: a.id, page: 1 });
    expect(page1).toMatchObject({ total: ORDERS_PAGE_SIZE + 5, page: 1, pages: 2 });
    expect(page1.rows).toHaveLength(ORDERS_PAGE_SIZE);
    const page2 = await listOrders({ activityId: a.id, page: 9 });
    expect(page2).toMatchObject({ page: 2 });
    expect(page2.rows).toHaveLength(5);
    expect(new Set([...page1.rows, ...page2.rows].map((r) => r.id)).size).toBe(ORDERS_PAGE_SIZE + 5);

    const paid = await listOrders({ activityId: a.id, status: "PAID", page: 1 });
    expect(paid.rows.map((r) => r.user.email)).toEqual([one.email]);
    const byEmail = await listOrders({ activityId: a.id, email: one.email.toUpperCase().slice(0, -3), page: 1 });
    expect(byEmail.rows.map((r) => r.user.email)).toEqual([one.email]);

    h.user = { id: (await createAdmin()).id, role: "ADMIN" };
    const res = await exportRoute.GET(
      new Request(`http://localhost/api/admin/orders/export?activityId=${a.id}`),
      undefined,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="orders-.+\.csv"$/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)], "UTF-8 byte order mark").toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes).trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "order_no,order_id,activity_id,activity,queue_sequence,user_email,quantity,unit_price_yuan,amount_yuan,currency,status,pay_by (Asia/Shanghai),paid_at (Asia/Shanghai),created_at (Asia/Shanghai),close_reason,payment_ref,refund",
    );
    expect(lines).toHaveLength(ORDERS_PAGE_SIZE + 6);
    expect(new Set(lines.slice(1).map((l) => l.split(",")[1]))).toEqual(
      new Set([...page1.rows, ...page2.rows].map((r) => r.id)),
    );

    const filtered = await exportRoute.GET(
      new Request(
        `http://localhost/api/admin/orders/export?activityId=${a.id}&status=PAID&email=${encodeURIComponent(one.email)}`,
      ),
      undefined,
    );
    const rows = (await filtered.text()).trimEnd().split("\r\n").slice(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(`,${one.email},1,9.90,9.90,CNY,PAID,`);
    // Numbered in the order the orders were written; the list shows the newest first.
    const numbers = page1.rows.map((r) => r.number);
    expect(numbers).toEqual([...numbers].sort((x, y) => y - x));
  });
});
