import path from "node:path";
import { request as playwrightRequest, type Browser, type Page } from "@playwright/test";
import { test, expect } from "./support/test";
import { apiBuy, apiSignIn, createLiveSale } from "./support/api";
import { createActivity } from "./support/db";
import { holdQueue } from "./support/queue";
import { STORAGE, shopper } from "./support/users";

// The README's pictures of the sale page: before the start, queued, won, sold out (with "Why didn't
// I get one?"), each at 1280×800 and 390×844, in the shop's default language (zh-CN).
const OUT = path.join(process.cwd(), "docs", "screenshots"); // npm run screenshots runs from the repository root
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const TITLE = "降噪耳机 1 元秒杀";

async function shoot(browser: Browser, size: keyof typeof SIZES, slug: string, name: string, ready: (p: Page) => Promise<void>) {
  const context = await browser.newContext({
    storageState: STORAGE.shopper1,
    viewport: SIZES[size],
    isMobile: size === "phone",
    hasTouch: size === "phone",
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
  });
  const page = await context.newPage();
  await page.goto(`/activities/${slug}`);
  await expect(page.locator("[data-hydrated]")).toBeVisible();
  await ready(page);
  // The phone's viewport ends above the buy panel's status: the whole page shows it.
  await page.screenshot({ path: path.join(OUT, `${size}-${name}.png`), fullPage: size === "phone" });
  await context.close();
}

async function buyAs(baseURL: string | undefined, n: number, activityId: string) {
  const api = await playwrightRequest.newContext({ baseURL });
  await apiSignIn(api, shopper(n).email, shopper(n).password);
  const r = await apiBuy(api, activityId);
  await api.dispose();
  return r;
}

test("the sale page in four states, desktop and phone", async ({ browser, baseURL }) => {
  test.setTimeout(600_000); // eight page loads and two queues on a machine that may be busy
  const before = await createActivity({ startInMs: 3 * 3600_000, stock: 100, title: TITLE });
  for (const size of ["desktop", "phone"] as const) {
    await shoot(browser, size, before.slug, "1-before", async (p) => {
      await expect(p.getByTestId("countdown")).toBeVisible();
    });
  }

  const sale = await createLiveSale(baseURL, { stock: 100, title: TITLE });
  const queue = await holdQueue(sale.id);
  for (let n = 3; n <= 9; n++) expect((await buyAs(baseURL, n, sale.id)).status).toBe(202);
  const own = await playwrightRequest.newContext({ baseURL, storageState: STORAGE.shopper1 });
  expect((await apiBuy(own, sale.id)).status).toBe(202);
  await own.dispose();
  for (const size of ["desktop", "phone"] as const) {
    await shoot(browser, size, sale.slug, "2-queued", async (p) => {
      await expect(p.getByTestId("ticket-queued")).toHaveAttribute("data-sequence", "8");
    });
  }
  await queue.release();
  for (const size of ["desktop", "phone"] as const) {
    await shoot(browser, size, sale.slug, "3-won", async (p) => {
      await expect(p.getByTestId("pay-now")).toBeVisible();
    });
  }

  const gone = await createLiveSale(baseURL, { stock: 1, title: TITLE });
  expect((await buyAs(baseURL, 10, gone.id)).status).toBe(202);
  const late = await playwrightRequest.newContext({ baseURL, storageState: STORAGE.shopper1 });
  expect((await apiBuy(late, gone.id)).body.code).toBe("SOLD_OUT");
  await expect.poll(async () => ((await (await late.get(`/api/activities/${gone.id}/me`)).json()) as { trace: unknown }).trace).toBeTruthy();
  await late.dispose();
  for (const size of ["desktop", "phone"] as const) {
    await shoot(browser, size, gone.slug, "4-sold-out", async (p) => {
      await expect(p.getByTestId("why-not")).toBeVisible();
    });
  }
});
