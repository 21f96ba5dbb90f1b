import { test as setup, expect, type Page } from "@playwright/test";
import { ADMIN, STORAGE, shopper } from "./support/users";

async function signIn(page: Page, email: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
}

// Signs in once per account and saves the session for the other tests.
setup("sign in the admin and two shoppers", async ({ browser }) => {
  for (const [who, file] of [
    [ADMIN, STORAGE.admin],
    [shopper(1), STORAGE.shopper1],
    [shopper(2), STORAGE.shopper2],
  ] as const) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, who.email, who.password);
    await context.storageState({ path: file });
    await context.close();
  }
});
