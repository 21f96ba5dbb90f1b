import { test, expect } from "./support/test";
import type { Page } from "@playwright/test";
import { createLiveSale } from "./support/api";
import { STORAGE, shopper } from "./support/users";

// A phone (390×844): the shopper's pages never scroll sideways, and the header folds into a menu.
test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

async function expectNoHorizontalOverflow(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth, `page is ${scrollWidth}px wide in a ${innerWidth}px window`).toBeLessThanOrEqual(innerWidth);
}

test.describe("signed in at 390×844", () => {
  test.use({ storageState: STORAGE.shopper1 });

  test("home, a sale, orders and sign-in fit the screen; the menu holds the account links", async ({ page, baseURL }) => {
    const sale = await createLiveSale(baseURL, { title: "Phone layout sale with a rather long title to wrap" });
    for (const path of ["/", `/activities/${sale.slug}`, "/orders", "/sign-in"]) {
      await page.goto(path);
      // The account menu fills in after hydration; measure once it has.
      await expect(page.getByTestId("signed-in-as")).toBeAttached();
      await expectNoHorizontalOverflow(page);
    }

    await page.goto("/");
    const signOut = page.getByRole("button", { name: "Sign out" });
    await expect(signOut).toBeHidden();
    await page.getByTestId("menu-toggle").click();
    await expect(signOut).toBeVisible();
    await expect(page.getByTestId("signed-in-as")).toHaveText(shopper(1).email);
    await expectNoHorizontalOverflow(page);
    // Following a link folds the menu again.
    await page.getByRole("link", { name: "My orders" }).click();
    await expect(page).toHaveURL(/\/orders$/);
    await expect(signOut).toBeHidden();
  });
});

test("signed out at 390×844 the sign-in and sign-up pages fit the screen", async ({ page }) => {
  for (const path of ["/", "/sign-in", "/sign-up"]) {
    await page.goto(path);
    await expectNoHorizontalOverflow(page);
  }
});

test.describe("a Chinese phone at 390×844", () => {
  test.use({ storageState: STORAGE.shopper1, locale: "zh-CN" });

  test("the shopper buys through to the order page in zh-CN; nothing scrolls sideways", async ({ page, baseURL }) => {
    const sale = await createLiveSale(baseURL, { title: "手机下单测试：一个比较长的活动标题，看看会不会换行" });
    await page.goto(`/activities/${sale.slug}`);
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await expect(page.getByTestId("signed-in-as")).toBeAttached();
    await expectNoHorizontalOverflow(page);
    const button = page.getByTestId("buy-button");
    await expect(button).toHaveText("立即抢购");
    await button.click();
    await expect(page.getByTestId("ticket-confirmed")).toContainText("下单成功");
    await expectNoHorizontalOverflow(page);
    await page.getByTestId("pay-now").click();
    await expect(page.getByTestId("order-status")).toHaveText("待付款");
    await expectNoHorizontalOverflow(page);
    await page.getByTestId("menu-toggle").click();
    await expect(page.getByTestId("locale-en")).toBeVisible();
    await expectNoHorizontalOverflow(page);
  });
});
