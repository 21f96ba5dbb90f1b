import { request as playwrightRequest, type Page } from "@playwright/test";
import { test, expect } from "./support/test";
import { apiBuy, apiSignIn, createLiveSale } from "./support/api";
import { holdQueue } from "./support/queue";
import { STORAGE, shopper } from "./support/users";

// The shopper never loses their place: the sale page restores the shopper's state from the server
// (GET /api/activities/{id}/me) after a reload, in a second tab and on a revisit. Runs in the
// desktop project (English) and in the phone project (390×844, Chinese); assertions read test ids
// and data attributes, so they hold in both languages.
test.use({
  storageState: STORAGE.shopper1,
  // Requests cut off by going offline on purpose are logged by Chromium as errors.
  allowedConsoleErrors: [/net::ERR_INTERNET_DISCONNECTED/],
});

async function openSale(page: Page, slug: string) {
  await page.goto(`/activities/${slug}`);
  await expect(page.locator("[data-hydrated]")).toBeVisible();
}

async function expectQueuedAt(page: Page, sequence: number, ahead: number) {
  const queued = page.getByTestId("ticket-queued");
  await expect(queued).toHaveAttribute("data-sequence", String(sequence));
  await expect(queued).toHaveAttribute("data-ahead", String(ahead));
  const button = page.getByTestId("buy-button");
  await expect(button).toHaveAttribute("data-state", "queued");
  await expect(button).toBeDisabled();
}

async function expectOrder(page: Page) {
  const confirmed = page.getByTestId("ticket-confirmed");
  await expect(confirmed).toBeVisible();
  const orderId = await confirmed.getAttribute("data-order-id");
  expect(orderId).toBeTruthy();
  await expect(confirmed.locator("time")).toBeVisible(); // the pay-by time
  await expect(page.getByTestId("pay-now")).toHaveAttribute("href", `/orders/${orderId}`);
  const button = page.getByTestId("buy-button");
  await expect(button).toHaveAttribute("data-state", "bought");
  await expect(button).toBeDisabled();
  await expect(page.getByTestId("bought-link")).toHaveAttribute("href", `/orders/${orderId}`);
  return orderId!;
}

async function expectNoHorizontalOverflow(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth, `page is ${scrollWidth}px wide in a ${innerWidth}px window`).toBeLessThanOrEqual(innerWidth);
}

test("queued: a reload and a second tab show the same place; offline is said and clears; then the order, also on a revisit", async ({
  page,
  context,
  baseURL,
}) => {
  test.setTimeout(180_000); // six page loads on a machine that may be busy
  const sale = await createLiveSale(baseURL, { stock: 3, perUserLimit: 1 });
  // The workers are held off this sale's queue, so the tickets stay queued while the page is reloaded.
  const queue = await holdQueue(sale.id);
  try {
    for (const n of [3, 4]) {
      const api = await playwrightRequest.newContext({ baseURL });
      await apiSignIn(api, shopper(n).email, shopper(n).password);
      expect((await apiBuy(api, sale.id)).status).toBe(202);
      await api.dispose();
    }
    await openSale(page, sale.slug);
    await page.getByTestId("buy-button").click();
    await expectQueuedAt(page, 3, 2);

    await page.reload();
    await expectQueuedAt(page, 3, 2);
    await expectNoHorizontalOverflow(page);

    const second = await context.newPage();
    await openSale(second, sale.slug);
    await expectQueuedAt(second, 3, 2);

    // Offline: the page says so and keeps its place; back online, the note goes by itself.
    await context.setOffline(true);
    await expect(page.getByTestId("offline-note")).toBeVisible();
    await expectQueuedAt(page, 3, 2);
    await context.setOffline(false);
    await expect(page.getByTestId("offline-note")).toHaveCount(0);
    await second.close();
  } finally {
    await queue.release();
  }

  const orderId = await expectOrder(page);
  // A revisit (a new tab, as on another device with the same account) shows the order and its pay link.
  const revisit = await context.newPage();
  await openSale(revisit, sale.slug);
  expect(await expectOrder(revisit)).toBe(orderId);
  await expectNoHorizontalOverflow(revisit);
});

test("a shopper who missed out sees why: their click against the point where the stock ran out", async ({ page, baseURL }) => {
  const sale = await createLiveSale(baseURL, { stock: 1, perUserLimit: 1 });
  const winner = await playwrightRequest.newContext({ baseURL });
  await apiSignIn(winner, shopper(5).email, shopper(5).password);
  expect((await apiBuy(winner, sale.id)).status).toBe(202);
  await winner.dispose();

  // The shopper's own click, refused: it is noted for them (by the web process, within a second).
  expect((await apiBuy(page.request, sale.id)).body.code).toBe("SOLD_OUT");
  await expect
    .poll(async () => ((await (await page.request.get(`/api/activities/${sale.id}/me`)).json()) as { trace: unknown }).trace)
    .toMatchObject({ outcome: "SOLD_OUT", lastUnit: { sequence: 1 } });

  await openSale(page, sale.slug);
  const why = page.getByTestId("why-not");
  await expect(why).toBeVisible();
  await expect(why.getByTestId("why-last-unit")).toContainText(/#1\b|第 1 位/);
  await expect(why.getByTestId("why-you")).toHaveAttribute("data-outcome", "SOLD_OUT");
  await expect(why.getByTestId("why-you")).toContainText(/\d+\.\d\d/); // seconds after the start
  await expectNoHorizontalOverflow(page);

  // Private: another shopper sees no trace of theirs.
  const other = await playwrightRequest.newContext({ baseURL, storageState: STORAGE.shopper2 });
  expect(((await (await other.get(`/api/activities/${sale.id}/me`)).json()) as { trace: unknown }).trace).toBeNull();
  await other.dispose();
});
