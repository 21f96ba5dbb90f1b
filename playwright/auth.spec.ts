import { test, expect } from "./support/test";
import type { Page } from "@playwright/test";
import { createActivity } from "./support/db";
import { STORAGE, shopper } from "./support/users";

/** Fills and sends the sign-up form on the current page. */
async function signUp(page: Page, name: string, email: string) {
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct-horse-battery");
  await page.getByRole("button", { name: "Create account" }).click();
}

test.describe("accounts", () => {
  test("a new shopper signs up, is signed in, signs out and signs in again", async ({ page }) => {
    const email = `new-${Date.now()}-${Math.floor(Math.random() * 1e6)}@flash.test`;
    await page.goto("/sign-up");
    await signUp(page, "New Shopper", email);
    await expect(page.getByTestId("signed-in-as")).toHaveText(email);

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

    // The header shows "Sign in" as soon as the session is gone, while sign-out's own navigation may
    // still be on its way (slow on a busy machine) and abort ours: go again until ours stands.
    await expect(async () => {
      await page.goto("/sign-in");
      await expect(page.getByLabel("Email")).toBeVisible({ timeout: 2000 });
    }).toPass();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct-horse-battery");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("signed-in-as")).toHaveText(email);
  });

  test("sign-up refuses a taken email and a short password, field by field", async ({ page }) => {
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("Dup");
    await page.getByLabel("Email").fill(shopper(1).email);
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByText("Use at least 8 characters")).toBeVisible();
    await page.getByLabel("Password").fill("long-enough-password");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByText("An account with this email already exists.")).toBeVisible();
  });

  test("a wrong password is refused", async ({ page }) => {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(shopper(1).email);
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByText("Wrong email or password.")).toBeVisible();
    // The email stays; only the password is asked again.
    await expect(page.getByLabel("Email")).toHaveValue(shopper(1).email);
  });

  test("signing up from a sale's sign-in link lands back on that sale", async ({ page }) => {
    const sale = await createActivity({ startInMs: 3600_000 });
    const email = `back-${Date.now()}-${Math.floor(Math.random() * 1e6)}@flash.test`;
    await page.goto(`/sign-in?callbackUrl=/activities/${sale.slug}`);
    await page.getByRole("link", { name: "Create an account" }).click();
    await expect(page).toHaveURL(/\/sign-up\?callbackUrl=/);
    await signUp(page, "Came From A Sale", email);
    await expect(page).toHaveURL(new RegExp(`/activities/${sale.slug}$`));
    await expect(page.getByTestId("signed-in-as")).toHaveText(email);
  });

  test("sign-up never redirects off the site", async ({ page }) => {
    const email = `stay-${Date.now()}-${Math.floor(Math.random() * 1e6)}@flash.test`;
    await page.goto("/sign-up?callbackUrl=//evil.example/");
    await signUp(page, "Stays Here", email);
    await expect(page.getByTestId("signed-in-as")).toHaveText(email);
    // The session shows in the header before the client-side navigation lands: wait for the URL.
    await expect(page).toHaveURL((url) => url.pathname === "/");
  });
});

test.describe("admin area as a shopper", () => {
  test.use({ storageState: STORAGE.shopper1 });

  test("the admin page is refused on the server", async ({ page, request }) => {
    const res = await request.get("/admin", { maxRedirects: 0 });
    expect(res.status()).toBe(307);
    expect(res.headers()["location"]).toContain("/forbidden");
    await page.goto("/admin");
    await expect(page.getByRole("heading", { name: "403 — not allowed" })).toBeVisible();
  });
});

test.describe("admin area signed out", () => {
  test("redirects to sign-in", async ({ request }) => {
    const res = await request.get("/admin", { maxRedirects: 0 });
    expect(res.status()).toBe(307);
    expect(res.headers()["location"]).toContain("/sign-in");
  });
});
