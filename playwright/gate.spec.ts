import { test, expect } from "./support/test";
import { createActivity } from "./support/db";
import { apiSignIn, startSaleNow } from "./support/api";
import { shopper } from "./support/users";

// The gate in the browser: the human check solved during the countdown, the refusal without it,
// and the rate limit's friendly message.
test.describe("the gate", () => {
  // Sales start far ahead and are started by the admin's "start early" control once the countdown
  // has been seen: nothing here races the wall clock on a loaded machine.
  test("a shopper solves the ALTCHA check during the countdown and buys at the start", async ({ browser, baseURL }) => {
    const activity = await createActivity({ startInMs: 3600_000, stock: 3, humanCheck: "REQUIRED", captchaDifficulty: 300 });
    const context = await browser.newContext();
    await apiSignIn(context.request, shopper(11).email, shopper(11).password);
    const page = await context.newPage();
    await page.goto(`/activities/${activity.slug}`);
    await expect(page.getByTestId("countdown")).toBeVisible();
    await expect(page.getByTestId("human-check")).toBeVisible();
    // The widget solves the proof of work on its own; the pass arrives before the start.
    await expect(page.getByTestId("gate-passed")).toBeVisible({ timeout: 30_000 });
    await startSaleNow(baseURL, activity.id);

    const button = page.getByTestId("buy-button");
    // The countdown (seen above) shows until the page, on the server's clock, sees the start.
    await expect(page.getByTestId("countdown")).toHaveCount(0, { timeout: 20_000 });
    await expect(button).toBeEnabled();
    await button.click();
    await expect(page.getByTestId("ticket-confirmed")).toContainText("Order confirmed", { timeout: 30_000 });
    await context.close();
  });

  test("without a pass the buy token is refused with a clear message", async ({ browser, baseURL }) => {
    const activity = await createActivity({ startInMs: 3600_000, stock: 3, humanCheck: "REQUIRED", captchaDifficulty: 300 });
    const context = await browser.newContext();
    await apiSignIn(context.request, shopper(12).email, shopper(12).password);
    const page = await context.newPage();
    // No challenge ever reaches this shopper, as for a script that skips the check.
    await page.route("**/gate/challenge", (route) => route.abort());
    await page.goto(`/activities/${activity.slug}`);
    await expect(page.getByTestId("human-check")).toBeVisible();

    const button = page.getByTestId("buy-button");
    // The countdown shows until the page (hydrated, on the server's clock) sees the start.
    await expect(page.getByTestId("countdown")).toBeVisible();
    await startSaleNow(baseURL, activity.id);
    await expect(page.getByTestId("countdown")).toHaveCount(0, { timeout: 20_000 });
    await expect(button).toBeEnabled();
    await button.click();
    await expect(page.getByTestId("buy-status")).toContainText("Complete the human check before the sale starts");
    const token = await context.request.get(`/api/activities/${activity.id}/token`);
    expect(token.status()).toBe(403);
    expect(await token.json()).toEqual({ code: "PASS_REQUIRED" });
    await context.close();
  });

  test("an account is locked after wrong passwords in a row, even for the right one, and the form says for how long", async ({ page }) => {
    // shopper 14 is used by no other test: its lockout (RATE_LIMIT_SIGNIN_ACCOUNT, 5 in 15 min) harms nobody.
    await page.goto("/sign-in");
    const submit = page.getByRole("button", { name: "Sign in" });
    const answered = () => page.waitForResponse((r) => r.url().includes("/api/auth/callback/credentials"));
    // The form is reset after each attempt (a form action), so both fields are typed every time.
    const attempt = async (password: string) => {
      await page.getByLabel("Email").fill(shopper(14).email);
      await page.getByLabel("Password").fill(password);
      await Promise.all([answered(), submit.click()]);
    };
    for (let i = 0; i < 6; i++) {
      await attempt("wrong-password");
      await expect(page.getByText("Wrong email or password.")).toBeVisible();
    }
    await attempt(shopper(14).password);
    await expect(page.getByText(/^Too many attempts, retry in \d+ s\.$/)).toBeVisible();
  });

  test("a rate-limited shopper sees how long to wait", async ({ browser, baseURL }) => {
    const activity = await createActivity({ startInMs: 3600_000, stock: 5 });
    const context = await browser.newContext();
    await apiSignIn(context.request, shopper(13).email, shopper(13).password);
    const page = await context.newPage();
    await page.goto(`/activities/${activity.slug}`);
    const button = page.getByTestId("buy-button");
    // The countdown shows until the page (hydrated, on the server's clock) sees the start.
    await expect(page.getByTestId("countdown")).toBeVisible();
    await startSaleNow(baseURL, activity.id);
    await expect(page.getByTestId("countdown")).toHaveCount(0, { timeout: 20_000 });
    await expect(button).toBeEnabled();

    // A script on the same account uses up the order limit (RATE_LIMIT_ORDERS_USER, 10 in 10 s).
    const { token } = (await (await context.request.get(`/api/activities/${activity.id}/token`)).json()) as { token: string };
    let last = 0;
    for (let i = 0; i < 11 && last !== 429; i++) {
      const res = await context.request.post(`/api/activities/${activity.id}/orders`, {
        data: { quantity: 1, idempotencyKey: `e2e-limit-${i}-${Date.now()}`, token },
      });
      last = res.status();
    }
    expect(last).toBe(429);

    await button.click();
    await expect(page.getByTestId("buy-status")).toContainText(/Too many attempts, retry in \d+ s\./);
    await context.close();
  });
});
