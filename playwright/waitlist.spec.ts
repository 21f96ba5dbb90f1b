import { request } from "@playwright/test";
import { test, expect } from "./support/test";
import { apiBuy, createLiveSale } from "./support/api";
import { testDb } from "./support/db";
import { STORAGE } from "./support/users";

// The waitlist (docs/fair-entry.md): a shopper joins a sold-out sale's waitlist, another shopper's
// hold expires (its pay-by moved into the past in the test database: a controlled clock, no waiting
// for a real payment window), the unit is offered to the waitlisted shopper, who buys it.
test.use({ storageState: STORAGE.shopper1 });

test("waitlist: join when sold out, get the unit another shopper's expired hold gave back, buy it", async ({ page, baseURL }) => {
  test.setTimeout(150_000);
  const sale = await createLiveSale(baseURL, { stock: 1, perUserLimit: 1, deductionMode: "RESERVE" });

  // Another shopper takes the only unit; the worker writes the order.
  const other = await request.newContext({ baseURL, storageState: STORAGE.shopper2 });
  expect((await apiBuy(other, sale.id)).status).toBe(202);
  await expect.poll(() => testDb().order.count({ where: { activityId: sale.id } }), { timeout: 30_000 }).toBe(1);

  await page.goto(`/activities/${sale.slug}`);
  await expect(page.locator("[data-hydrated]")).toBeVisible();
  await expect(page.getByTestId("buy-button")).toHaveAttribute("data-state", "sold-out");
  await page.getByTestId("waitlist-join").click();
  await expect(page.getByTestId("waitlist-position")).toHaveAttribute("data-position", "1");

  // The other shopper's hold runs out: the sweeper expires the order, the unit comes back and is offered.
  await testDb().order.updateMany({ where: { activityId: sale.id }, data: { payBy: new Date(Date.now() - 1000) } });
  await expect(page.getByTestId("waitlist-offer")).toBeVisible({ timeout: 30_000 });

  const button = page.getByTestId("buy-button");
  await expect(button).toBeEnabled({ timeout: 20_000 });
  await button.click();
  await expect(page.getByTestId("ticket-confirmed")).toBeVisible({ timeout: 30_000 });
  // The expired order and the new one: one unit, sold once.
  const orders = await testDb().order.findMany({ where: { activityId: sale.id }, select: { status: true } });
  expect(orders.map((o) => o.status).sort()).toEqual(["EXPIRED", "PENDING_PAYMENT"]);
  await other.dispose();
});
