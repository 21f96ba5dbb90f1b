import { test, expect, type Browser } from "@playwright/test";
import { createActivity } from "./support/db";
import { expectStrictScriptSrc, watchCsp } from "./support/csp";
import { STORAGE } from "./support/users";

// Every kind of page under the strict policy (script-src 'self' plus the hashes of the page's own
// inline scripts): it renders, hydrates, and the browser reports no violation. Sales start 5 min
// ahead: inside the workers' preheat lead, so their gate and progress answer.

async function visit(browser: Browser, storageState: string | undefined, paths: string[]) {
  const context = await browser.newContext(storageState ? { storageState } : {});
  const page = await context.newPage();
  const violations = await watchCsp(page);
  for (const path of paths) {
    const res = await page.goto(path);
    expect(res, path).not.toBeNull();
    expectStrictScriptSrc(res!.headers()["content-security-policy"]);
    // The App Router's inline scripts ran: the page's flight data reached the client runtime.
    await page.waitForFunction(() => Array.isArray((self as unknown as { __next_f?: unknown[] }).__next_f));
    expect(await violations(), path).toEqual([]);
  }
  await context.close();
}

test.describe("strict Content-Security-Policy", () => {
  test("the shop's static/ISR pages and auth pages run under it, and the sale page stays cacheable", async ({ browser, request }) => {
    const activity = await createActivity({ startInMs: 300_000, humanCheck: "REQUIRED", captchaDifficulty: 300 });
    // The sale page is static (ISR), the same HTML for everyone: its policy carries hashes, not a nonce.
    const res = await request.get(`/activities/${activity.slug}`);
    expect(res.headers()["cache-control"]).toMatch(/s-maxage=\d+/);
    expect(res.headers()["content-security-policy"]).toMatch(/'sha256-[A-Za-z0-9+/=]+'/);
    await visit(browser, undefined, ["/", `/activities/${activity.slug}`, "/sign-in", "/sign-up", "/no-such-page"]);
  });

  test("a signed-in shopper's pages, with the ALTCHA widget, run under it", async ({ browser }) => {
    const activity = await createActivity({ startInMs: 300_000, humanCheck: "REQUIRED", captchaDifficulty: 300 });
    const context = await browser.newContext({ storageState: STORAGE.shopper1 });
    const page = await context.newPage();
    const violations = await watchCsp(page);
    await page.goto(`/activities/${activity.slug}`);
    // The widget's proof of work runs in its blob: workers and the pass arrives: all within the policy.
    await expect(page.getByTestId("gate-passed")).toBeVisible({ timeout: 30_000 });
    expect(await violations()).toEqual([]);
    await context.close();
    await visit(browser, STORAGE.shopper1, ["/orders"]);
  });

  test("the admin console runs under it", async ({ browser }) => {
    const activity = await createActivity({ startInMs: 300_000 });
    await visit(browser, STORAGE.admin, ["/admin", "/admin/activities/new", `/admin/activities/${activity.id}`, "/admin/blocklist", "/admin/orders"]);
  });
});
