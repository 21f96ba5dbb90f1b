import http from "node:http";
import { test, expect } from "./support/test";
import type { Page } from "@playwright/test";
import { createActivity, testDb } from "./support/db";
import { apiBuy, createLiveSale } from "./support/api";
import { STORAGE, shopper } from "./support/users";

// The buy form has two doors onto one core: without JavaScript the server action (answering on a
// private result page), with JavaScript the hot route. A shopper sees the same outcomes either way.

async function expectConfirmedOrder(page: Page, activityId: string, email: string) {
  const confirmed = page.getByTestId("ticket-confirmed");
  await expect(confirmed).toContainText("Order confirmed");
  await expect(confirmed).toContainText("Please pay by");
  const order = await testDb().order.findFirstOrThrow({ where: { activityId, user: { email } } });
  await expect(confirmed).toHaveAttribute("data-order-id", order.id);
}

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false, storageState: STORAGE.shopper1 });

  test("the form posts to the server action; the private result page shows the ticket, then the refusal", async ({
    page,
    baseURL,
  }) => {
    const activity = await createLiveSale(baseURL, { stock: 3, perUserLimit: 1 });

    await page.goto(`/activities/${activity.slug}`);
    await page.getByTestId("buy-button").click();
    await expect(page).toHaveURL(new RegExp(`/activities/${activity.slug}/result\\?ticket=`));
    // Queued until a worker writes the order; the page asks again by itself (meta refresh).
    await expectConfirmedOrder(page, activity.id, shopper(1).email);

    const result = await page.request.get(page.url());
    expect(result.headers()["cache-control"]).toMatch(/private/);
    expect(result.headers()["cache-control"]).toMatch(/no-store/);

    // A second buy is refused with the limit's code and message.
    await page.goto(`/activities/${activity.slug}`);
    await page.getByTestId("buy-button").click();
    await expect(page).toHaveURL(new RegExp(`/activities/${activity.slug}/result\\?refused=LIMIT_REACHED`));
    await expect(page.getByTestId("buy-refused")).toHaveAttribute("data-code", "LIMIT_REACHED");
    await expect(page.getByTestId("buy-refused")).toContainText(
      "You have already bought the most this sale allows per person.",
    );
    expect(await testDb().order.count({ where: { activityId: activity.id } })).toBe(1);
  });

  test("a signed-out shopper is sent to sign in", async ({ browser, baseURL }) => {
    const activity = await createLiveSale(baseURL, { stock: 3 });
    const anonymous = await browser.newContext({
      javaScriptEnabled: false,
      storageState: { cookies: [], origins: [] },
    });
    const page = await anonymous.newPage();
    await page.goto(`/activities/${activity.slug}`);
    await page.getByTestId("buy-button").click();
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=/);
    await anonymous.close();
  });
});

test.describe("with JavaScript", () => {
  test.use({ storageState: STORAGE.shopper2 });

  test("the form goes to the hot route; a proxy's 502 page for the token is retried, not shown as a blank page", async ({
    page,
    baseURL,
  }) => {
    const activity = await createLiveSale(baseURL, { stock: 3, perUserLimit: 1 });

    // The first token request meets a proxy's HTML 502; the retry waits until the page has said so.
    let release!: () => void;
    const seen = new Promise<void>((r) => (release = r));
    let tokenCalls = 0;
    await page.route(`**/api/activities/${activity.id}/token`, async (route) => {
      if (++tokenCalls === 1) {
        return route.fulfill({
          status: 502,
          contentType: "text/html",
          body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
        });
      }
      await seen;
      return route.continue();
    });
    const orderPosts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST") orderPosts.push(new URL(r.url()).pathname);
    });

    await page.goto(`/activities/${activity.slug}`);
    const button = page.getByTestId("buy-button");
    // The server's HTML has the button on (for browsers without JavaScript): wait for the live one.
    await expect(page.locator("[data-hydrated]")).toBeVisible();
    await expect(button).toBeEnabled();
    await button.click();
    await expect(page.getByTestId("buy-retrying")).toContainText("trying again");
    await expect(page.getByRole("heading", { name: activity.title })).toBeVisible();
    release();

    await expect(page.getByTestId("ticket-queued").or(page.getByTestId("ticket-confirmed"))).toBeVisible();
    await expectConfirmedOrder(page, activity.id, shopper(2).email);
    expect(page.url()).toMatch(new RegExp(`/activities/${activity.slug}$`));
    expect(orderPosts).toEqual([`/api/activities/${activity.id}/orders`]);

    // Bought in this page: the button is off; the shop gives the same refusal as without JavaScript.
    await expect(button).toHaveText("Bought");
    await expect(button).toBeDisabled();
    expect((await apiBuy(page.request, activity.id)).body.code).toBe("LIMIT_REACHED");
    expect(tokenCalls).toBe(2);
  });

  test("an order request answered by a proxy's 502 is retried with the same key: one order", async ({
    page,
    baseURL,
  }) => {
    const activity = await createLiveSale(baseURL, { stock: 3, perUserLimit: 2 });
    const bodies: string[] = [];
    await page.route(`**/api/activities/${activity.id}/orders`, async (route) => {
      bodies.push(route.request().postData() ?? "");
      // The first attempt reaches the shop, but its answer is lost behind a 502 page.
      if (bodies.length === 1) {
        await route.fetch();
        return route.fulfill({ status: 502, contentType: "text/html", body: "<html>Bad Gateway</html>" });
      }
      return route.continue();
    });
    await page.goto(`/activities/${activity.slug}`);
    await expect(page.locator("[data-hydrated]")).toBeVisible();
    await expect(page.getByTestId("buy-button")).toBeEnabled();
    await page.getByTestId("buy-button").click();
    await expectConfirmedOrder(page, activity.id, shopper(2).email);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
    expect(await testDb().order.count({ where: { activityId: activity.id } })).toBe(1);
  });
});

test.describe("a proxy that answers with error pages", () => {
  test("the sale page stays up and says the live figures are unavailable, then shows them", async ({
    page,
    baseURL,
  }) => {
    const activity = await createLiveSale(baseURL, { stock: 3 });
    let failing = true;
    await page.route(`**/api/activities/${activity.id}/progress`, (route) =>
      failing
        ? route.fulfill({ status: 502, contentType: "text/html", body: "<html>Bad Gateway</html>" })
        : route.continue(),
    );
    await page.goto(`/activities/${activity.slug}`);
    // React Query retries with backoff, then the page says so; it never goes blank.
    await expect(page.getByTestId("progress-unavailable")).toBeVisible();
    await expect(page.getByRole("heading", { name: activity.title })).toBeVisible();
    failing = false;
    await expect(page.getByTestId("stock-left")).toHaveText("3 of 3 left");
    await expect(page.getByTestId("progress-unavailable")).toHaveCount(0);
  });
});

test.describe("the hot server's body limit", () => {
  test.use({ storageState: STORAGE.shopper2 });

  test("a chunked body without a length is refused with 413 once it passes the limit", async ({ context, baseURL }) => {
    const activity = await createActivity({ startInMs: 3600_000, stock: 1 });
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(new URL(`/api/activities/${activity.id}/orders`, baseURL), {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 64; i++) req.write(Buffer.alloc(4096, 32));
      req.end();
    });
    expect(status).toBe(413);
  });
});
