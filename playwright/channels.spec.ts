import { test, expect } from "./support/test";
import { createActivity, testDb } from "./support/db";
import { STORAGE } from "./support/users";

// Channel allocation in the admin console (docs/channels.md): a partner's key shown once and revoked;
// a sale's split proposed from the channels' history, saved, and shown per channel on the dashboard.
test.describe("channels in the admin console", () => {
  test.use({ storageState: STORAGE.admin });

  test("an admin creates a partner key (shown once), splits a sale over web, app and the partner, and revokes the key", async ({ page }) => {
    test.setTimeout(120_000);
    const channel = `partner-e2e${Date.now().toString(36)}`;
    await page.goto("/admin/partners");
    await page.getByLabel("Channel").fill(channel);
    await page.getByLabel("Label").fill("E2E partner");
    await page.getByRole("button", { name: "Create a key" }).click();
    const key = (await page.getByTestId("new-api-key").textContent()) ?? "";
    expect(key).toMatch(/^fsk_[A-Za-z0-9_-]{43}$/);
    // At rest only its SHA-256; the page never shows it again.
    const row = await testDb().apiKey.findFirstOrThrow({ where: { channel } });
    expect(row.keyHash).toMatch(/^[0-9a-f]{64}$/);
    await page.reload();
    await expect(page.getByTestId("api-keys")).toContainText(channel);
    await expect(page.locator("body")).not.toContainText(key);

    // A sale starting in 5 minutes (preheated on save: within the scheduler's lead).
    const a = await createActivity({ startInMs: 5 * 60_000, stock: 20 });
    await page.goto(`/admin/activities/${a.id}`);
    const form = page.getByTestId("channels-form");
    await expect(form.locator(`tr[data-channel="${channel}"]`)).toBeVisible();
    // Only web, app and this partner: other partners' channels from earlier runs are removed.
    for (const other of await form.locator("tr[data-channel]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-channel")!))) {
      if (other !== "web" && other !== "app" && other !== channel) await form.locator(`tr[data-channel="${other}"]`).getByRole("button", { name: "Remove" }).click();
    }
    await form.getByLabel("Units sold web").fill("600");
    await form.getByLabel("Units sold app").fill("300");
    await form.getByLabel(`Units sold ${channel}`).fill("100");
    await form.getByRole("button", { name: "Propose from these figures" }).click();
    await expect(page.getByTestId("channels-sum")).toHaveText("Shares: 20 of 20 units");
    // Only volume is known: the measures with no figures weigh nothing, so 0.6, 0.3, 0.1 of 20.
    await expect(form.getByLabel("Share (units) web")).toHaveValue("12");
    await form.getByRole("button", { name: "Save the split" }).click();
    await expect(page.getByTestId("channels-status")).toHaveText("Split saved.");

    await page.reload();
    const dash = page.getByTestId("dash-channels");
    await expect(dash.locator('tr[data-channel="web"] td').nth(2)).toHaveText("12", { timeout: 15_000 });
    await expect(dash.locator(`tr[data-channel="${channel}"] td`).nth(1)).toHaveText("2");

    await page.goto("/admin/partners");
    await page.locator(`tr:has-text("${channel}")`).getByRole("button", { name: "Revoke" }).click();
    await expect(page.locator(`tr:has-text("${channel}")`)).toContainText("Revoked");
    await expect.poll(async () => (await testDb().apiKey.findFirstOrThrow({ where: { channel } })).revokedAt).not.toBeNull();
  });
});
