import { request } from "@playwright/test";
import { test, expect } from "./support/test";
import { startSaleNow } from "./support/api";
import { createActivity } from "./support/db";
import { STORAGE } from "./support/users";

// Fair entry (docs/fair-entry.md): a shopper joins the pre-queue during the countdown, gets a drawn
// place when the sale starts (the admin's start-early control: nothing waits for the wall clock),
// buys with the drawn sequence number, and checks the draw on its verification page.
test.use({ storageState: STORAGE.shopper1 });

test("pre-queue: join, a drawn place at the start, buy with it, verify the draw", async ({ page, baseURL }) => {
  test.setTimeout(150_000);
  // Starts in 5 minutes with a 10-minute pre-queue: the window is open now.
  const sale = await createActivity({ startInMs: 5 * 60_000, stock: 2, perUserLimit: 1, prequeueMinutes: 10 });

  await page.goto(`/activities/${sale.slug}`);
  await expect(page.locator("[data-hydrated]")).toBeVisible();
  const box = page.getByTestId("prequeue");
  await expect(box.getByTestId("draw-commitment")).toContainText(/[0-9a-f]{64}/);
  await box.getByTestId("prequeue-join").click();
  const entry = box.getByTestId("prequeue-entry");
  await expect(entry).toHaveAttribute("data-entry", /^[A-Za-z0-9_-]{16}$/);
  const entryId = (await entry.getAttribute("data-entry"))!;

  // A second shopper joins through the API, so the draw orders two entries.
  const other = await request.newContext({ baseURL, storageState: STORAGE.shopper2 });
  const joined = await other.post(`/api/activities/${sale.id}/prequeue`);
  expect(joined.status()).toBe(201);
  // Before the start the seed is secret.
  const hidden = (await (await other.get(`/api/activities/${sale.id}/draw`)).json()) as { seed: string | null };
  expect(hidden.seed).toBeNull();

  await startSaleNow(baseURL, sale.id);
  const position = box.getByTestId("prequeue-position");
  await expect(position).toBeVisible({ timeout: 30_000 });
  const drawn = Number(await position.getAttribute("data-position"));
  expect([1, 2]).toContain(drawn);
  // Two units, two entries: both held, each under the number of its place.
  await expect(position).toHaveAttribute("data-sequence", String(drawn));

  const button = page.getByTestId("buy-button");
  await expect(button).toBeEnabled({ timeout: 20_000 });
  await button.click();
  // The order carries the drawn sequence number.
  await expect(page.getByTestId("ticket-confirmed")).toHaveAttribute("data-sequence", String(drawn), { timeout: 30_000 });

  // The verification page recomputes the draw in the browser from the revealed seed.
  await box.getByTestId("draw-link").click();
  await expect(page).toHaveURL(new RegExp(`/activities/${sale.slug}/draw$`));
  await expect(page.getByTestId("draw-seed")).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId("draw-result")).toHaveAttribute("data-ok", "true");
  await expect(page.getByTestId("draw-count")).toHaveText("2");
  await expect(page.locator(`tr[data-entry="${entryId}"] td`).first()).toHaveText(String(drawn));
  await expect(page.getByTestId("draw-cli")).toContainText(`npm run verify-draw -- ${sale.id}`);
  await other.dispose();
});
