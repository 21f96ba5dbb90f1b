import { test, expect } from "./support/test";
import { dateToZonedInput } from "../lib/format";

// The shop's zone as the e2e server runs it (SHOP_TIME_ZONE unset: the default).
const SHOP_TIME_ZONE = process.env.SHOP_TIME_ZONE || "Asia/Shanghai";
import type { Browser, Page } from "@playwright/test";
import { createActivity, testDb } from "./support/db";
import { createLiveSale } from "./support/api";
import { ADMIN, STORAGE } from "./support/users";

// A 1×1 PNG for the product image.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
const PAUSED = "The sale is paused for a moment. Please try again shortly.";

/** A time as the browser's datetime-local field wants it (its own time zone; seconds only if not zero). */
/** The value a datetime-local input takes for an instant: the wall-clock time in the shop's zone (docs/i18n.md). */
function shopInput(ms: number): string {
  return dateToZonedInput(ms, SHOP_TIME_ZONE);
}

async function shopperPage(browser: Browser, storageState: string, slug: string): Promise<Page> {
  const context = await browser.newContext({ storageState });
  const page = await context.newPage();
  await page.goto(`/activities/${slug}`);
  return page;
}

async function buyAndConfirm(page: Page) {
  // The server's HTML has the button on (for browsers without JavaScript): wait for the live one.
  await expect(page.locator("[data-hydrated]")).toBeVisible();
  await expect(page.getByTestId("buy-button")).toBeEnabled({ timeout: 60_000 });
  await page.getByTestId("buy-button").click();
  await expect(page.getByTestId("ticket-confirmed")).toBeVisible();
}

/** What PostgreSQL says was sold and is left. */
async function pgFigures(activityId: string) {
  const db = testDb();
  const [a, sold] = await Promise.all([
    db.activity.findUniqueOrThrow({ where: { id: activityId } }),
    db.order.aggregate({
      where: { activityId, status: { in: ["PENDING_PAYMENT", "PAID"] } },
      _sum: { quantity: true },
    }),
  ]);
  return { stock: a.stock, sold: sold._sum.quantity ?? 0, total: a.totalStock };
}

async function expectDashboardMatchesDb(admin: Page, activityId: string, expected: { sold: number; stock: number }) {
  await expect.poll(() => pgFigures(activityId)).toMatchObject(expected);
  const pg = await pgFigures(activityId);
  await expect(admin.getByTestId("dash-sold")).toHaveText(String(pg.sold));
  await expect(admin.getByTestId("dash-stock-pg")).toHaveText(String(pg.stock));
  await expect(admin.getByTestId("dash-stock-left")).toHaveText(String(pg.stock));
  await expect(admin.getByTestId("dash-queue")).toHaveText("0");
}

test.describe("the admin console", () => {
  test.use({ storageState: STORAGE.admin });

  test("an admin creates a product and a sale in the console; shoppers buy; the dashboard agrees with PostgreSQL", async ({
    page,
    browser,
  }) => {
    test.setTimeout(150_000);
    const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    const productName = `E2E kettle ${tag}`;
    const title = `Kettle flash sale ${tag}`;

    await page.goto("/admin/products/new");
    await page.getByLabel("Name").fill(productName);
    await page.getByLabel("Description").fill("Boils a litre in a minute.");
    await page.getByLabel("List price (yuan)").fill("299.00");
    await page.getByLabel("Image").setInputFiles({ name: "kettle.png", mimeType: "image/png", buffer: PNG });
    await expect(page.getByAltText("Product image preview")).toHaveAttribute("src", /^\/uploads\/[a-f0-9]{32}\.png$/);
    await page.getByRole("button", { name: "Create product" }).click();
    await expect(page.getByTestId("product-created")).toBeVisible();

    await page.goto("/admin/activities/new");
    const start = Date.now() + 30_000;
    await page.getByLabel("Title").fill(title);
    await page.getByLabel("Product").selectOption({ label: productName });
    await page.getByLabel("Sale price (yuan)").fill("9.90");
    // An impossible setting first: refused next to its field, nothing stored.
    await page.getByLabel("Start", { exact: true }).fill(shopInput(start));
    await page.getByLabel("End", { exact: true }).fill(shopInput(start - 60_000));
    await page.getByLabel("Total stock").fill("3");
    await page.getByLabel("Limit per person").fill("1");
    await page.getByRole("button", { name: "Create sale" }).click();
    await expect(page.getByText("The end must be after the start")).toBeVisible();
    expect(await testDb().activity.count({ where: { title } })).toBe(0);

    await page.getByLabel("End", { exact: true }).fill(shopInput(start + 3_600_000));
    await page.getByRole("button", { name: "Create sale" }).click();
    await page.waitForURL(/\/admin\/activities\/(?!new$)[a-z0-9]+$/);
    const activityId = page.url().split("/").pop()!;
    const a = await testDb().activity.findUniqueOrThrow({ where: { id: activityId }, include: { product: true } });
    expect(a).toMatchObject({ title, salePrice: 990, totalStock: 3, stock: 3, perUserLimit: 1, status: "SCHEDULED" });
    expect(Math.abs(a.startAt.getTime() - start)).toBeLessThan(1000);
    expect(a.product).toMatchObject({
      name: productName,
      listPrice: 29900,
      imageUrl: expect.stringMatching(/^\/uploads\//),
    });

    // The storefront shows it at once (revalidated), with the countdown and the uploaded image.
    const buyer1 = await shopperPage(browser, STORAGE.shopper1, a.slug);
    await expect(buyer1.getByRole("heading", { name: title })).toBeVisible();
    await expect(buyer1.getByTestId("countdown")).toBeVisible();
    await expect(buyer1.getByRole("img", { name: productName })).toHaveAttribute("src", a.product.imageUrl!);
    const image = await buyer1.request.get(a.product.imageUrl!);
    expect(image.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");

    const buyer2 = await shopperPage(browser, STORAGE.shopper2, a.slug);
    await buyAndConfirm(buyer1);
    await buyAndConfirm(buyer2);

    await expectDashboardMatchesDb(page, activityId, { sold: 2, stock: 1 });
    await expect(page.getByTestId("dash-confirmed")).toHaveText("2");

    // A live sale's title can still change; its static page (ISR, 5 min) shows the edit within seconds.
    await page.getByRole("link", { name: "Edit" }).click();
    await expect(page.getByText("This sale is selling")).toBeVisible();
    await page.getByLabel("Title").fill(`${title} (renamed)`);
    await page.getByRole("button", { name: "Save sale" }).click();
    await page.waitForURL(new RegExp(`/admin/activities/${activityId}$`));
    await expect(async () => {
      await buyer1.reload();
      await expect(buyer1.getByRole("heading", { name: `${title} (renamed)` })).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 15_000 });
    await buyer1.context().close();
    await buyer2.context().close();
  });

  test("pause refuses buys with the paused message, resume accepts them again", async ({ page, browser, baseURL }) => {
    const a = await createLiveSale(baseURL, { stock: 5, title: `Pause test ${Date.now()}` });
    await page.goto(`/admin/activities/${a.id}`);
    const buyer = await shopperPage(browser, STORAGE.shopper1, a.slug);
    await expect(buyer.locator("[data-hydrated]")).toBeVisible();
    await expect(buyer.getByTestId("buy-button")).toBeEnabled();

    await page.getByRole("button", { name: "Pause" }).click();
    await expect(page.getByTestId("control-status")).toHaveText("Paused: new buys are refused.");
    await expect(page.getByTestId("dash-paused")).toBeVisible();

    // The shop says so, and the server refuses a buy sent anyway.
    await expect(buyer.getByTestId("buy-status")).toContainText(PAUSED);
    await expect(buyer.getByTestId("buy-button")).toBeDisabled();
    const token = (await (await buyer.request.get(`/api/activities/${a.id}/token`)).json()) as { token: string };
    const refused = await buyer.request.post(`/api/activities/${a.id}/orders`, {
      data: { quantity: 1, idempotencyKey: `e2e-paused-${Date.now()}`, token: token.token },
    });
    expect(refused.status()).toBe(409);
    expect(await refused.json()).toEqual({ code: "PAUSED" });

    await page.getByRole("button", { name: "Resume" }).click();
    await expect(page.getByTestId("control-status")).toHaveText("Resumed: buys are accepted again.");
    await buyAndConfirm(buyer);
    await expectDashboardMatchesDb(page, a.id, { sold: 1, stock: 4 });

    await page.goto("/admin/audit");
    const rows = page.getByTestId("audit-row").filter({ hasText: a.title });
    // Each action in words ("paused"), its raw name kept on the row for tools and tests.
    await expect(rows.and(page.locator('[data-action="activity.pause"]'))).toContainText(ADMIN.email);
    await expect(rows.and(page.locator('[data-action="activity.pause"]'))).toContainText("paused");
    await expect(rows.and(page.locator('[data-action="activity.resume"]'))).toContainText(ADMIN.email);
    await buyer.context().close();
  });

  test("restock lets a sold-out sale sell again", async ({ page, browser, baseURL }) => {
    const a = await createLiveSale(baseURL, { stock: 1, title: `Restock test ${Date.now()}` });
    const buyer1 = await shopperPage(browser, STORAGE.shopper1, a.slug);
    await buyAndConfirm(buyer1);

    const buyer2 = await shopperPage(browser, STORAGE.shopper2, a.slug);
    await expect(buyer2.getByTestId("buy-button")).toHaveText("Sold out");
    await expect(buyer2.getByTestId("buy-button")).toBeDisabled();

    await page.goto(`/admin/activities/${a.id}`);
    await expectDashboardMatchesDb(page, a.id, { sold: 1, stock: 0 });
    await expect(page.getByTestId("dash-sold-out")).not.toHaveText("—");
    await page.getByLabel("Units to add").fill("1");
    await page.getByRole("button", { name: "Restock" }).click();
    await expect(page.getByTestId("restock-status")).toHaveText("Restocked.");

    await buyAndConfirm(buyer2);
    await expectDashboardMatchesDb(page, a.id, { sold: 2, stock: 0 });
    expect((await pgFigures(a.id)).total).toBe(2);
    await buyer1.context().close();
    await buyer2.context().close();
  });
});

test.describe("the admin area refuses anyone else, on the server", () => {
  const pages = (ids: { product: string; activity: string }) => [
    "/admin",
    "/admin/products",
    "/admin/products/new",
    `/admin/products/${ids.product}`,
    "/admin/activities/new",
    `/admin/activities/${ids.activity}`,
    `/admin/activities/${ids.activity}/edit`,
    "/admin/orders",
    "/admin/audit",
  ];
  const apis = (id: string): [string, string, unknown?][] => [
    ["GET", `/api/admin/activities/${id}/dashboard`],
    ["POST", "/api/admin/activities", { title: "x" }],
    ["PATCH", `/api/admin/activities/${id}`, { title: "x" }],
    ["POST", `/api/admin/activities/${id}/controls`, { action: "pause" }],
    ["GET", "/api/admin/orders/export"],
    ["POST", "/api/admin/uploads", {}],
  ];
  let ids = { product: "", activity: "" };
  test.beforeAll(async () => {
    const a = await createActivity({ startInMs: 600_000 });
    ids = { product: a.productId, activity: a.id };
  });

  test.describe("a shopper", () => {
    test.use({ storageState: STORAGE.shopper1 });
    test("is redirected from every admin page and gets 403 from every admin API", async ({ request }) => {
      for (const path of pages(ids)) {
        const res = await request.get(path, { maxRedirects: 0 });
        expect({ path, status: res.status() }).toEqual({ path, status: 307 });
        expect(new URL(res.headers()["location"]!, "http://x").pathname).toBe("/forbidden");
      }
      for (const [method, path, data] of apis(ids.activity)) {
        const res = await request.fetch(path, { method, data, maxRedirects: 0 });
        expect({ path, method, status: res.status() }).toEqual({ path, method, status: 403 });
      }
      expect((await testDb().activity.findUniqueOrThrow({ where: { id: ids.activity } })).paused).toBe(false);
    });
  });

  test("a visitor who is not signed in is sent to sign in, and gets 401 from the APIs", async ({ request }) => {
    for (const path of pages(ids)) {
      const res = await request.get(path, { maxRedirects: 0 });
      expect(res.status()).toBe(307);
      expect(res.headers()["location"]).toContain("/sign-in");
    }
    for (const [method, path, data] of apis(ids.activity)) {
      const res = await request.fetch(path, { method, data, maxRedirects: 0 });
      expect({ path, method, status: res.status() }).toEqual({ path, method, status: 401 });
    }
  });
});
