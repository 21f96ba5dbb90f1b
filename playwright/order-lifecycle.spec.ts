import { test, expect } from "./support/test";
import type { Page } from "@playwright/test";
import { createLiveSale } from "./support/api";
import { testDb } from "./support/db";
import { STORAGE } from "./support/users";

/** Buys one unit through the sale page and follows "Pay now" to the order page. */
async function buyAndOpenOrder(page: Page, slug: string) {
  await page.goto(`/activities/${slug}`);
  const button = page.getByTestId("buy-button");
  await expect(button).toBeEnabled({ timeout: 20_000 });
  await button.click();
  await expect(page.getByTestId("ticket-confirmed")).toContainText("Order confirmed");
  await page.getByTestId("pay-now").click();
  await expect(page).toHaveURL(/\/orders\/[^/?]+$/);
}

test.describe("after the order: pay, expire", () => {
  test("a shopper pays on the sandbox page and sees 'paid' with a receipt", async ({ browser, baseURL }) => {
    const activity = await createLiveSale(baseURL, { stock: 3 });
    const context = await browser.newContext({ storageState: STORAGE.shopper1 });
    const page = await context.newPage();
    await buyAndOpenOrder(page, activity.slug);

    await expect(page.getByTestId("order-status")).toHaveText("Waiting for payment");
    // The pay-by moment with date, time and time zone.
    await expect(page.locator("time").first()).toHaveAttribute("datetime", /Z$/);
    await page.getByTestId("pay-button").click();
    await expect(page).toHaveURL(/\/pay\/sandbox\/sbx_cs_/);
    await page.getByTestId("sandbox-confirm").click();

    // Back at the shop: the asynchronous notification (or the active query) turns the order paid.
    await expect(page).toHaveURL(/\/orders\/[^/]+\?checkout=return/);
    await expect(page.getByTestId("order-status")).toHaveText("Paid");
    const receipt = page.getByTestId("receipt");
    await expect(receipt).toBeVisible();
    await expect(receipt).toContainText("sbx_cs_");
    await expect(page.getByTestId("pay-button")).toHaveCount(0);
    await context.close();
  });

  test("an unpaid hold expires and its unit returns to sale in another shopper's browser", async ({ browser, baseURL }) => {
    const activity = await createLiveSale(baseURL, {
      stock: 1,
      deductionMode: "RESERVE",
      paymentWindowSec: 600,
    });
    const buyer = await browser.newContext({ storageState: STORAGE.shopper2 });
    const page = await buyer.newPage();
    await buyAndOpenOrder(page, activity.slug);

    const other = await browser.newContext({ storageState: STORAGE.shopper1 });
    const otherPage = await other.newPage();
    await otherPage.goto(`/activities/${activity.slug}`);
    await expect(otherPage.getByTestId("stock-left")).toHaveText("Sold out");

    // Nobody pays, and the pay-by time comes (moved forward here rather than waited for): the sweeper releases the hold.
    await expect(page.getByTestId("hold-timer")).toBeVisible();
    await testDb().order.updateMany({
      where: { activityId: activity.id },
      data: { payBy: new Date(Date.now() - 1000) },
    });
    await expect(page.getByTestId("order-status")).toHaveText("Expired");
    await expect(page.getByTestId("order-reason")).toContainText("not paid by the pay-by time");
    await expect(page.getByTestId("pay-button")).toHaveCount(0);
    await expect(otherPage.getByTestId("stock-left")).toHaveText("1 of 1 left");
    await expect(otherPage.getByTestId("buy-button")).toBeEnabled();
    await other.close();
    await buyer.close();
  });

  test("a RESERVE sale shows the running hold timer", async ({ browser, baseURL }) => {
    const activity = await createLiveSale(baseURL, {
      stock: 2,
      deductionMode: "RESERVE",
      paymentWindowSec: 600,
    });
    const context = await browser.newContext({ storageState: STORAGE.shopper1 });
    const page = await context.newPage();
    await buyAndOpenOrder(page, activity.slug);
    const timer = page.getByTestId("hold-timer");
    await expect(timer).toHaveText(/^00:(09|10):\d\d$/);
    await expect(page.getByText("Your units are held for you for")).toBeVisible();
    const first = await timer.textContent();
    await expect(timer).not.toHaveText(first!); // it runs
    await context.close();
  });
});
