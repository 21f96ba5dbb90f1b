import { test, expect } from "./support/test";
import type { Page } from "@playwright/test";
import { createLiveSale } from "./support/api";
import { createActivity } from "./support/db";
import { STORAGE, shopper } from "./support/users";

// The storefront in both languages: negotiated from the browser, switchable, prices in ¥, times with
// their date and zone, and the shopper's path (sign in → buy → order) walked in each.

const WORDS = {
  "zh-CN": { home: "限时秒杀", signIn: "登录", email: "邮箱", password: "密码", buy: "立即抢购", confirmed: "下单成功", site: "秒杀商城" },
  en: { home: "Flash sales", signIn: "Sign in", email: "Email", password: "Password", buy: "Buy now", confirmed: "Order confirmed", site: "Flash Sale" },
} as const;

async function signIn(page: Page, locale: keyof typeof WORDS, n: number, next: string) {
  const w = WORDS[locale];
  await page.goto(`/sign-in?callbackUrl=${encodeURIComponent(next)}`);
  await page.getByLabel(w.email).fill(shopper(n).email);
  await page.getByLabel(w.password).fill(shopper(n).password);
  await page.locator("form").getByRole("button", { name: w.signIn }).click();
  await expect(page).toHaveURL(new RegExp(`${next}$`));
}

for (const [locale, n] of [["zh-CN", 16], ["en", 17]] as const) {
  test.describe(`a ${locale} browser`, () => {
    test.use({ locale, timezoneId: "Asia/Shanghai" });

    test("gets its language, ¥ prices and buys through to an order", async ({ page, baseURL }) => {
      const w = WORDS[locale];
      const sale = await createLiveSale(baseURL, { title: `i18n ${locale} sale`, stock: 5 });

      await page.goto("/");
      await expect(page.locator("html")).toHaveAttribute("lang", locale);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(w.home);
      await expect(page).toHaveTitle(`${w.home} · ${w.site}`);

      await signIn(page, locale, n, `/activities/${sale.slug}`);
      await expect(page).toHaveTitle(`${sale.title} · ${w.site}`);
      await expect(page.locator(".buy-panel .price")).toHaveText("¥9.90");
      // Date, time and zone label, in the viewer's zone (here the shop's).
      await expect(page.getByTestId("sale-times")).toContainText(/(\d{4}.\d{2}.\d{2}|\d{2}\/\d{2}\/\d{4}).*\d{2}:\d{2}:\d{2}.*GMT\+8/);
      const button = page.getByTestId("buy-button");
      await expect(button).toHaveText(w.buy);
      await button.click();
      await expect(page.getByTestId("ticket-confirmed")).toContainText(w.confirmed);
      await page.getByTestId("pay-now").click();
      await expect(page.getByTestId("order-status")).toHaveAttribute("data-status", "PENDING_PAYMENT");
      await expect(page.locator("html")).toHaveAttribute("lang", locale);
    });
  });
}

test.describe("language negotiation and the switcher", () => {
  test.use({ locale: "zh-TW" });

  test("any Chinese browser gets zh-CN; the switcher changes it and is remembered", async ({ page }) => {
    await page.goto("/");
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await page.getByTestId("locale-en").click();
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(WORDS.en.home);
    await page.goto("/sign-in");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in");
    await page.getByTestId("locale-zh-CN").click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("登录");
  });
});

test.describe("times", () => {
  test.use({ locale: "en", timezoneId: "America/New_York" });

  test("the server's HTML is in the shop's zone and the page moves to the viewer's after hydration", async ({ page, request }) => {
    const sale = await createActivity({ startInMs: 3600_000, title: "Time zone sale" });
    const html = await (await request.get(`/activities/${sale.slug}`, { headers: { "accept-language": "en" } })).text();
    expect(html).toMatch(/GMT\+8/);
    await page.goto(`/activities/${sale.slug}`);
    await expect(page.getByTestId("sale-times")).toContainText(/EST|EDT|GMT-[45]/);
    await expect(page.getByTestId("sale-times")).not.toContainText("GMT+8");
  });
});

test.describe("page titles", () => {
  test.use({ locale: "en" });

  test("every shopper page has its own title, 404 and 403 included", async ({ browser, baseURL }) => {
    const sale = await createLiveSale(baseURL, { title: "Titled sale" });
    const seen = new Map<string, string>();
    const visit = async (page: Page, path: string, expected: RegExp) => {
      await page.goto(path);
      await expect(page).toHaveTitle(expected);
      seen.set(path, await page.title());
    };
    const anon = await browser.newPage();
    await visit(anon, "/", /^Flash sales · Flash Sale$/);
    await visit(anon, `/activities/${sale.slug}`, /^Titled sale · Flash Sale$/);
    await visit(anon, "/sign-in", /^Sign in · Flash Sale$/);
    await visit(anon, "/sign-up", /^Create an account · Flash Sale$/);
    await visit(anon, "/no-such-page", /^Page not found · Flash Sale$/);
    await visit(anon, "/activities/no-such-sale", /^Page not found · Flash Sale$/);
    await anon.close();

    const context = await browser.newContext({ storageState: STORAGE.shopper2 });
    const page = await context.newPage();
    await visit(page, "/orders", /^My orders · Flash Sale$/);
    await visit(page, "/admin", /^Not allowed \(403\) · Flash Sale$/);
    await context.close();

    const admin = await browser.newContext({ storageState: STORAGE.admin });
    const a = await admin.newPage();
    await visit(a, "/admin", /^Sales · Admin · Flash Sale$/);
    await visit(a, `/admin/activities/${sale.id}`, /^Titled sale · Sale dashboard · Admin · Flash Sale$/);
    await visit(a, "/admin/orders", /^Orders · Admin · Flash Sale$/);
    await visit(a, "/admin/products", /^Products · Admin · Flash Sale$/);
    await visit(a, "/admin/audit", /^Audit trail · Admin · Flash Sale$/);
    await admin.close();
    // No two pages share a title.
    expect(new Set(seen.values()).size).toBe(seen.size - 1); // the two not-found pages share theirs
  });
});
