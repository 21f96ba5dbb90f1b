import { test, expect } from "./support/test";
import { request as playwrightRequest } from "@playwright/test";
import { createActivity, testDb } from "./support/db";
import { apiBuy, apiSignIn, startSaleNow } from "./support/api";
import { STORAGE, shopper } from "./support/users";

test.describe("the flash-sale path", () => {
  test("countdown → buy → queue position → confirmed order; a second buy hits the limit; another shopper sees sold out", async ({
    browser,
    baseURL,
  }) => {
    // A far start, started by the admin's "start early" control once the countdown shows: the page
    // learns the new start from the shared progress, so nothing here races the wall clock.
    const activity = await createActivity({ startInMs: 3600_000, stock: 4, perUserLimit: 1 });
    const context = await browser.newContext({ storageState: STORAGE.shopper1 });
    const page = await context.newPage();

    // Hold the shared progress figures at the moment of the start, as a CDN edge one second behind would.
    let frozen: { body: string; headers: Record<string, string> } | null = null;
    let freeze = false;
    await page.route(`**/api/activities/${activity.id}/progress`, async (route) => {
      if (freeze && frozen) return route.fulfill({ status: 200, body: frozen.body, headers: frozen.headers });
      const res = await route.fetch();
      const body = await res.text();
      if (!freeze) frozen = { body, headers: res.headers() };
      return route.fulfill({ response: res, body });
    });

    await page.goto(`/activities/${activity.slug}`);
    await expect(page.getByRole("heading", { name: activity.title })).toBeVisible();
    await expect(page.getByTestId("countdown")).toBeVisible();
    const button = page.getByTestId("buy-button");
    await expect(button).toBeDisabled();
    await expect(button).toHaveText("Not started");

    // The start: the button turns on by itself.
    await startSaleNow(baseURL, activity.id);
    await expect(button).toBeEnabled({ timeout: 20_000 });
    await expect(page.getByTestId("countdown")).toHaveCount(0);
    freeze = true;

    // Two other shoppers get in first through the API.
    for (const n of [3, 4]) {
      const api = await playwrightRequest.newContext({ baseURL });
      await apiSignIn(api, shopper(n).email, shopper(n).password);
      expect((await apiBuy(api, activity.id)).status).toBe(202);
      await api.dispose();
    }

    // The shopper's own polls (ticket, /me) wait until the page has shown its place: idle workers can
    // confirm the order before the first render, and the queued state would never be seen.
    let release = () => {};
    const shown = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/api\/(tickets\/[^/?]+|activities\/[^/]+\/me)(\?|$)/, async (route) => {
      await shown;
      await route.continue();
    });
    await button.click();
    await expect(page.getByTestId("ticket-queued")).toContainText("You are in the queue (#3)");
    release();
    // The place ahead comes from the frozen progress or, fresher, from the shopper's own state (/me,
    // where the workers have already served the two before): either way the queue is shown, then the order.

    freeze = false;
    await expect(page.getByTestId("ticket-confirmed")).toContainText("Order confirmed");
    await expect(page.getByTestId("ticket-confirmed")).toContainText("Please pay by");

    // Bought in this page: the button says so and stays off; the shop itself refuses a second buy.
    await expect(button).toHaveText("Bought");
    await expect(button).toBeDisabled();
    expect((await apiBuy(page.request, activity.id)).body.code).toBe("LIMIT_REACHED");

    // A fourth shopper takes the last unit.
    const last = await playwrightRequest.newContext({ baseURL });
    await apiSignIn(last, shopper(6).email, shopper(6).password);
    expect((await apiBuy(last, activity.id)).status).toBe(202);
    await last.dispose();
    await expect.poll(() => testDb().order.count({ where: { activityId: activity.id } })).toBe(4);
    expect((await testDb().activity.findUniqueOrThrow({ where: { id: activity.id } })).stock).toBe(0);

    // Another shopper sees "sold out" once the stock is gone.
    const other = await browser.newContext({ storageState: STORAGE.shopper2 });
    const otherPage = await other.newPage();
    await otherPage.goto(`/activities/${activity.slug}`);
    await expect(otherPage.getByTestId("buy-button")).toHaveText("Sold out");
    await expect(otherPage.getByTestId("buy-button")).toBeDisabled();
    await expect(otherPage.getByTestId("buy-status")).toContainText("Sold out");
    await expect(otherPage.getByTestId("stock-left")).toHaveText("Sold out");

    // The order shows in "My orders".
    await page.goto("/orders");
    await expect(page.getByTestId("order-row").filter({ hasText: activity.title })).toHaveCount(1);
    await other.close();
    await context.close();
  });

  test("the server refuses buys before the start, whatever the client does", async ({ baseURL }) => {
    const activity = await createActivity({ startInMs: 120_000, stock: 5 });
    const api = await playwrightRequest.newContext({ baseURL });
    // The workers preheat sales due within ten minutes; wait until this one is in Redis.
    await expect.poll(async () => (await api.get(`/api/activities/${activity.id}/progress`)).status()).toBe(200);
    await apiSignIn(api, shopper(5).email, shopper(5).password);
    const token = await api.get(`/api/activities/${activity.id}/token`);
    expect(token.status()).toBe(409);
    expect(await token.json()).toMatchObject({ code: "NOT_STARTED" });
    const buy = await api.post(`/api/activities/${activity.id}/orders`, {
      data: { quantity: 1, idempotencyKey: "early-bird-123", token: "A".repeat(43) },
    });
    expect(buy.status()).toBe(409);
    expect(await buy.json()).toEqual({ code: "NOT_STARTED" });
    await api.dispose();
  });

  test("the activity page is cacheable and holds no user data", async ({ browser }) => {
    const activity = await createActivity({ startInMs: 60_000, stock: 5 });
    const context = await browser.newContext({ storageState: STORAGE.shopper1 });
    const res = await context.request.get(`/activities/${activity.slug}`);
    expect(res.status()).toBe(200);
    expect(res.headers()["cache-control"]).toMatch(/s-maxage=\d+/);
    expect(res.headers()["set-cookie"]).toBeUndefined();
    const html = await res.text();
    const user = await testDb().user.findUniqueOrThrow({ where: { email: shopper(1).email } });
    expect(html).toContain(activity.title);
    expect(html).not.toContain(user.email);
    expect(html).not.toContain(user.id);
    expect(html).not.toContain("Shopper 1");
    // The same bytes go to a signed-out visitor.
    const anonymous = await browser.newContext();
    const anonHtml = await (await anonymous.request.get(`/activities/${activity.slug}`)).text();
    expect(anonHtml).toBe(html);
    await anonymous.close();
    await context.close();
  });
});
