import { test, expect } from "./support/test";
import { request as playwrightRequest, type Page } from "@playwright/test";
import { adminControl, apiBuy, apiSignIn, createLiveSale } from "./support/api";
import { STORAGE, shopper } from "./support/users";

// What the buy panel offers in each state of a sale; every change of state comes from the admin's controls.
test.use({ storageState: STORAGE.shopper1 });

async function openSale(page: Page, slug: string) {
  await page.goto(`/activities/${slug}`);
  await expect(page.locator("[data-hydrated]")).toBeVisible();
}

test("the button is off while the shopper's ticket is queued or bought", async ({ page, baseURL }) => {
  const sale = await createLiveSale(baseURL, { stock: 3 });
  await openSale(page, sale.slug);
  const button = page.getByTestId("buy-button");
  await expect(button).toBeEnabled();
  await button.click();
  await expect(button).toHaveText(/^(In the queue|Bought)$/);
  await expect(button).toBeDisabled();
  await expect(page.getByTestId("ticket-confirmed")).toContainText("Order confirmed");
  await expect(button).toHaveText("Bought");
  await expect(button).toBeDisabled();
});

for (const [action, word] of [["cancel", "Cancelled"], ["end", "Ended"]] as const) {
  test(`after the admin's ${action}, the sale says "${word}" as text, with no buy button`, async ({ page, baseURL }) => {
    const sale = await createLiveSale(baseURL, { stock: 3 });
    await openSale(page, sale.slug);
    await expect(page.getByTestId("buy-button")).toBeEnabled();
    await adminControl(baseURL, sale.id, action);
    const closed = page.getByTestId("sale-closed");
    await expect(closed).toContainText(word);
    await expect(page.getByTestId("buy-button")).toHaveCount(0);
    await expect(closed.getByRole("link", { name: "See the shop's other sales" })).toHaveAttribute("href", "/");
  });
}

test("sold out offers the other sales; a pause on top adds no second notice", async ({ page, baseURL }) => {
  const sale = await createLiveSale(baseURL, { stock: 1 });
  const api = await playwrightRequest.newContext({ baseURL });
  await apiSignIn(api, shopper(7).email, shopper(7).password);
  expect((await apiBuy(api, sale.id)).status).toBe(202);
  await api.dispose();

  await openSale(page, sale.slug);
  const note = page.getByTestId("sold-out-note");
  await expect(note).toBeVisible();
  await expect(note.getByRole("link", { name: "See the shop's other sales" })).toHaveAttribute("href", "/");

  // Wait until the page has read the pause, then for one more reading, so its render has landed.
  const pausedRead = page.waitForResponse(
    async (r) => r.url().endsWith(`/api/activities/${sale.id}/progress`) && ((await r.json()) as { paused?: boolean }).paused === true,
  );
  await adminControl(baseURL, sale.id, "pause");
  await pausedRead;
  await page.waitForResponse((r) => r.url().endsWith(`/api/activities/${sale.id}/progress`));
  await expect(note).toBeVisible();
  await expect(page.getByText("The sale is paused for a moment.")).toHaveCount(0);
  await expect(page.getByTestId("buy-button")).toHaveText("Sold out");
});
