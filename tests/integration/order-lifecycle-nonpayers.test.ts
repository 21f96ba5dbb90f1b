import { afterAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { clearNonPayer } from "@/lib/admin/payments";
import { sweepOnce } from "@/lib/orders/sweeper";
import { sandboxProvider } from "@/lib/payments/sandbox/provider";
import { createActivity, createCores, createUsers, tokenFor } from "../support/flash";
import { buyOne } from "../support/lifecycle";

const { cores, close } = createCores(1);
afterAll(close);
const provider = sandboxProvider("http://shop.test");

describe("non-payers", () => {
  it("a shopper who lets 3 orders expire is flagged, refused by sales that refuse non-payers, and an admin can clear the flag", async () => {
    const [shopper, other] = await createUsers(2);
    for (let i = 0; i < 3; i++) {
      const a = await createActivity({ stock: 2, limit: 1 });
      const [order] = await buyOne(cores[0]!, a, [shopper!], `np-${i}-${a.id}`);
      await sweepOnce(db(), redis(), { now: new Date(order!.payBy!.getTime() + 1000), provider });
    }
    const flagged = await db().user.findUniqueOrThrow({ where: { id: shopper! } });
    expect(flagged.expiredOrders).toBe(3);
    expect(flagged.nonPayerSince).not.toBeNull();

    const strict = await createActivity({ stock: 5, limit: 1 });
    // A web process started now (processes read the flags at most every few seconds).
    const web = createCores(1);
    const buy = (user: string, a: { id: string; startMs: number; stock: number; limit: number }, key: string) =>
      web.cores[0]!.admit(a.id, user, { quantity: 1, idempotencyKey: key, token: tokenFor(a, user) });
    expect(await buy(shopper!, strict, "np-strict-1")).toEqual({ ok: false, code: "NON_PAYER" });
    expect(await buy(other!, strict, "np-strict-2")).toMatchObject({ ok: true }); // positive control

    // A sale configured to accept them still sells to the shopper.
    const lenient = await createActivity({ stock: 5, limit: 1, preheat: false });
    await db().activity.update({ where: { id: lenient.id }, data: { refuseNonPayers: false } });
    const { preheatActivity } = await import("@/lib/flash/preheat");
    await preheatActivity(db(), redis(), lenient.id);
    expect(await buy(shopper!, lenient, "np-lenient-1")).toMatchObject({ ok: true });

    const admin = await db().user.create({
      data: { email: `np-admin-${strict.id}@flash.test`, name: "A", passwordHash: "x", role: "ADMIN" },
    });
    expect(await clearNonPayer(shopper!, admin.id)).toMatchObject({ ok: true });
    expect(await clearNonPayer(shopper!, admin.id)).toMatchObject({ ok: false, code: "CONFLICT" });
    expect(await db().auditLog.count({ where: { actorId: admin.id, action: "user.nonpayer.clear" } })).toBe(1);
    // Within the cache's refresh interval the shopper may buy again.
    await expect
      .poll(async () => (await buy(shopper!, strict, `np-strict-${Date.now()}`)).ok, { timeout: 5_000, interval: 100 })
      .toBe(true);
    web.close();
  });
});
