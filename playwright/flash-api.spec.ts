import { test, expect } from "./support/test";
import { request as playwrightRequest } from "@playwright/test";
import { createActivity } from "./support/db";
import { apiBuy, apiSignIn } from "./support/api";
import { shopper } from "./support/users";

// The HTTP API as the hot server answers it (README "HTTP API"): bad input changes nothing.
test.describe("HTTP API of the flash routes", () => {
  test("refusals carry codes and fitting statuses", async ({ baseURL }) => {
    const activity = await createActivity({ startInMs: -1_000, stock: 2 });
    const anon = await playwrightRequest.newContext({ baseURL });
    const api = await playwrightRequest.newContext({ baseURL });
    await apiSignIn(api, shopper(7).email, shopper(7).password);
    await expect.poll(async () => (await anon.get(`/api/activities/${activity.id}/progress`)).status()).toBe(200);

    const progress = await anon.get(`/api/activities/${activity.id}/progress`);
    expect(progress.headers()["cache-control"]).toContain("max-age=1");
    expect(await progress.json()).toMatchObject({ stockLeft: 2, soldOut: false, admitted: 0 });

    expect((await anon.get(`/api/activities/${activity.id}/token`)).status()).toBe(401);
    const unauth = await anon.post(`/api/activities/${activity.id}/orders`, { data: { quantity: 1, idempotencyKey: "abcdefgh", token: "x".repeat(43) } });
    expect([unauth.status(), await unauth.json()]).toEqual([401, { code: "UNAUTHENTICATED" }]);

    const garbage = await api.post(`/api/activities/${activity.id}/orders`, { headers: { "content-type": "application/json" }, data: Buffer.from("{not json") });
    expect([garbage.status(), await garbage.json()]).toEqual([400, { code: "BAD_INPUT" }]);
    const badQty = await api.post(`/api/activities/${activity.id}/orders`, { data: { quantity: 0, idempotencyKey: "abcdefgh", token: "x".repeat(43) } });
    expect(badQty.status()).toBe(400);
    expect(await badQty.json()).toMatchObject({ code: "BAD_INPUT", fields: ["quantity"] });
    const huge = await api.post(`/api/activities/${activity.id}/orders`, { data: { quantity: 1, idempotencyKey: "abcdefgh", token: "x".repeat(43), pad: "p".repeat(10_000) } });
    expect(huge.status()).toBe(413);
    const badToken = await api.post(`/api/activities/${activity.id}/orders`, { data: { quantity: 1, idempotencyKey: "abcdefgh", token: "x".repeat(43) } });
    expect([badToken.status(), await badToken.json()]).toEqual([403, { code: "BAD_TOKEN" }]);
    expect((await api.get("/api/activities/nope/progress")).status()).toBe(404);
    expect((await api.get("/api/tickets/not-a-ticket")).status()).toBe(404);

    // None of that changed anything.
    expect(await (await anon.get(`/api/activities/${activity.id}/progress`)).json()).toMatchObject({ stockLeft: 2, admitted: 0 });

    // A real buy; its ticket is visible to its owner only.
    const bought = await apiBuy(api, activity.id);
    expect(bought.status).toBe(202);
    const ticketUrl = `/api/tickets/${bought.body.ticketId}`;
    await expect.poll(async () => ((await (await api.get(ticketUrl)).json()) as { status: string }).status).toBe("CONFIRMED");
    const stranger = await playwrightRequest.newContext({ baseURL });
    await apiSignIn(stranger, shopper(8).email, shopper(8).password);
    const peek = await stranger.get(ticketUrl);
    expect([peek.status(), await peek.json()]).toEqual([404, { code: "NOT_FOUND" }]);
    expect((await anon.get(ticketUrl)).status()).toBe(401);
    for (const c of [anon, api, stranger]) await c.dispose();
  });
});
