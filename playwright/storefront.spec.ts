import { test, expect } from "@playwright/test";

test("the storefront lists the seeded sale and opens its page", async ({ page }) => {
  await page.goto("/");
  const card = page.getByTestId("activity-card").filter({ hasText: "Headphones at 1 yuan" });
  await expect(card).toBeVisible();
  await card.click();
  await expect(page.getByRole("heading", { name: "Headphones at 1 yuan" })).toBeVisible();
  await expect(page.getByText("Limit 1 per person.").or(page.getByRole("link", { name: "Sign in to buy" }))).toBeVisible();
});
