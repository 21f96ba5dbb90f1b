import { test, expect } from "./support/test";
import { startSaleNow } from "./support/api";
import { createActivity } from "./support/db";
import { STORAGE } from "./support/users";

// Pre-sale (docs/presale.md): a shopper reserves a unit with a deposit before the flash sale, pays it
// on the sandbox provider's page, and after the start (the admin's start-early control: no clock to
// wait for) pays the balance; the order is then paid in full.
test.use({ storageState: STORAGE.shopper1 });

test("pre-sale: pay a deposit, then the balance once the flash sale opens", async ({ page, baseURL, browser }) => {
  test.setTimeout(150_000);
  // Starts in 30 minutes, beyond the workers' 10-minute preheat: the deposit window (open now) is not cut short.
  const sale = await createActivity({
    startInMs: 30 * 60_000,
    stock: 3,
    perUserLimit: 1,
    presale: { deposit: 100, opensInMs: -60_000, closesInMs: 15 * 60_000, units: 2, balanceWindowSec: 3600 },
  });

  await page.goto(`/activities/${sale.slug}`);
  await expect(page.locator("[data-hydrated]")).toBeVisible();
  const box = page.getByTestId("presale");
  await expect(box).toContainText("Pre-sale");
  await box.getByTestId("deposit-button").click();

  // The pre-sale order: the deposit is paid first, on the provider's page.
  await expect(page).toHaveURL(/\/orders\/[^/?]+$/);
  const orderUrl = page.url();
  await expect(page.getByTestId("presale-order")).toHaveAttribute("data-state", "DEPOSIT_DUE");
  await expect(page.getByTestId("pay-button")).toContainText("Pay the deposit");
  await page.getByTestId("pay-button").click();
  await expect(page).toHaveURL(/\/pay\/sandbox\/sbx_cs_/);
  await expect(page.getByText("1.00").first()).toBeVisible();
  await page.getByTestId("sandbox-confirm").click();

  // Back at the shop: the deposit is paid, the unit reserved; the balance waits for the flash sale.
  await expect(page).toHaveURL(/\/orders\/[^/]+\?checkout=return/);
  await expect(page.getByTestId("presale-order")).toHaveAttribute("data-state", "BALANCE_DUE", { timeout: 30_000 });
  await expect(page.getByTestId("order-status")).toHaveText("Waiting for payment");
  await expect(page.getByTestId("pay-button")).toHaveCount(0);
  await page.goto("/orders");
  await expect(page.getByTestId("presale-row-state").first()).toContainText("deposit paid, balance due");
  await page.goto(`/activities/${sale.slug}`);
  await expect(page.getByTestId("presale-state")).toHaveAttribute("data-state", "BALANCE_DUE");

  // The flash sale opens: the sale page says "pay the balance by …", and the balance is paid.
  await startSaleNow(baseURL, sale.id);
  await page.reload();
  const state = page.getByTestId("presale-state");
  await expect(state).toHaveAttribute("data-state", "BALANCE_DUE");
  await expect(state).toContainText("Pay the balance of");
  await state.getByTestId("balance-link").click();
  await expect(page).toHaveURL(orderUrl);
  await expect(page.getByTestId("pay-button")).toContainText("Pay the balance");
  await page.getByTestId("pay-button").click();
  await expect(page).toHaveURL(/\/pay\/sandbox\/sbx_cs_/);
  await expect(page.getByText("8.90").first()).toBeVisible();
  await page.getByTestId("sandbox-confirm").click();

  await expect(page).toHaveURL(/\/orders\/[^/]+\?checkout=return/);
  await expect(page.getByTestId("order-status")).toHaveText("Paid", { timeout: 30_000 });
  await expect(page.getByTestId("presale-order")).toHaveAttribute("data-state", "PAID");
  await expect(page.getByTestId("receipt")).toContainText("sbx_cs_");
  await page.goto("/orders");
  await expect(page.getByTestId("presale-row-state").first()).toContainText("pre-sale, paid in full");

  // The admin's sale page counts the pre-sale's units by state.
  const admin = await browser.newContext({ storageState: STORAGE.admin });
  const adminPage = await admin.newPage();
  await adminPage.goto(`/admin/activities/${sale.id}`);
  await expect(adminPage.getByTestId("admin-presale")).toContainText("1 paid in full");
  await admin.close();
});
