import type { APIRequestContext } from "@playwright/test";
import { test, expect } from "./support/test";
import { createActivity } from "./support/db";
import { STORAGE } from "./support/users";

// Two web instances of one build on one Redis and PostgreSQL: npm test (scripts/test.ts) starts A on
// BASE_URL, B on BASE_URL_B and nginx over both on BASE_URL_LB. Next.js's cache (ISR pages,
// revalidatePath) lives in Redis (lib/next-cache.ts), so an edit made on A refreshes the page B serves
// at once; with a per-process cache B would serve its copy until the ISR timer (5 minutes) ran out.
const A_URL = process.env.BASE_URL ?? "http://localhost:3100";
const B = process.env.BASE_URL_B;
const LB = process.env.BASE_URL_LB;

/** The sale page's HTML from one server, and whether Next.js answered it from its cache. */
async function salePage(request: APIRequestContext, base: string, slug: string) {
  const res = await request.get(`${base}/activities/${slug}`, { maxRedirects: 0 });
  expect(res.status()).toBe(200);
  return { html: await res.text(), cache: res.headers()["x-nextjs-cache"] };
}

test.describe("two web instances of one build", () => {
  test.use({ storageState: STORAGE.admin });

  test("an admin edit on instance A shows on the page instance B serves, without waiting for the ISR timer", async ({
    page,
    browser,
    request,
  }) => {
    expect(B, "BASE_URL_B: npm test starts instance B").toBeTruthy();
    expect(LB, "BASE_URL_LB: npm test starts nginx over A and B").toBeTruthy();
    const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    const title = `Two instances ${tag}`;
    const a = await createActivity({ startInMs: 3600_000, title });

    // B renders the page once and stores it (after answering); asked again, it answers from the
    // cache, which A shares: A answers with B's copy, never rendering it (STALE: Next.js keeps each
    // page's ISR time per process and, for a page this process has not rendered, takes 1 s, so it
    // serves the copy and refreshes it once in the background).
    expect((await salePage(request, B!, a.slug)).html).toContain(title);
    await expect.poll(async () => (await salePage(request, B!, a.slug)).cache, { timeout: 5_000 }).toBe("HIT");
    expect(["HIT", "STALE"]).toContain((await salePage(request, A_URL, a.slug)).cache);
    const viewer = await (await browser.newContext()).newPage();
    await viewer.goto(`${B}/activities/${a.slug}`);
    await expect(viewer.getByRole("heading", { name: title })).toBeVisible();

    // The edit, through the admin console on A.
    await page.goto(`/admin/activities/${a.id}/edit`);
    await page.getByLabel("Title").fill(`${title} edited`);
    await page.getByRole("button", { name: "Save sale" }).click();
    await page.waitForURL(new RegExp(`/admin/activities/${a.id}$`));

    // B shows it on the next request: seconds, not the 5 minutes of its ISR timer.
    const t0 = Date.now();
    let reloads = 0;
    await expect(async () => {
      reloads++;
      await viewer.reload();
      await expect(viewer.getByRole("heading", { name: `${title} edited` })).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 10_000 });
    console.log(`[instances] the edit made on A showed on B after ${Date.now() - t0} ms (${reloads} reload(s) of B's page)`);
    // Through the balancer, whichever instance answers, the page is the edited one.
    for (let i = 0; i < 4; i++) expect((await salePage(request, LB!, a.slug)).html).toContain(`${title} edited`);
    await viewer.context().close();
  });
});
