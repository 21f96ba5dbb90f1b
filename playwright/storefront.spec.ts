import { test, expect } from "./support/test";
import { request as playwrightRequest } from "@playwright/test";
import { apiBuy, apiSignIn, createLiveSale } from "./support/api";
import { shopper } from "./support/users";

test("the storefront lists the seeded sale and opens its page", async ({ page }) => {
  await page.goto("/");
  const card = page.getByTestId("activity-card").filter({ hasText: "Headphones at 1 yuan" });
  await expect(card).toBeVisible();
  await card.click();
  await expect(page.getByRole("heading", { name: "Headphones at 1 yuan" })).toBeVisible();
  await expect(page.getByText("Limit 1 per person.").or(page.getByRole("link", { name: "Sign in to buy" }))).toBeVisible();
});

test("a sale card's status follows the live figures, not the page's last rebuild", async ({ page, baseURL }) => {
  const sale = await createLiveSale(baseURL, { stock: 1, title: `Card status ${Date.now()}` });
  const badge = page.getByTestId("activity-card").filter({ hasText: sale.title }).getByTestId("sale-badge");
  // The admin API revalidates the home page, but a rebuild that began before the sale existed (other
  // tests load "/" in parallel) can land after it and hold until the page's 30 s revalidate: reload.
  await expect(async () => {
    await page.goto("/");
    await expect(badge).toHaveText("Live", { timeout: 2_000 });
  }).toPass({ timeout: 45_000 });

  const api = await playwrightRequest.newContext({ baseURL });
  await apiSignIn(api, shopper(8).email, shopper(8).password);
  expect((await apiBuy(api, sale.id)).status).toBe(202);
  await api.dispose();
  // The page is not rebuilt by a sale; the card reads the shared progress and says so.
  await expect(badge).toHaveText("Sold out");
});
