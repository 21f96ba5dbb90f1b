import { test, expect } from "./support/test";
import { request as playwrightRequest } from "@playwright/test";

// /metrics of the production web server (README "Operations"): the bearer token only, and the requests
// it passed on to its pages process (Next.js) counted there.
test.describe("operations endpoints of the production server", () => {
  test("/metrics answers the token only and counts the pages process's answers", async ({ baseURL }) => {
    const token = process.env.METRICS_TOKEN;
    expect(token, "scripts/test.ts gives the e2e servers a METRICS_TOKEN").toBeTruthy();
    const api = await playwrightRequest.newContext({ baseURL });
    expect((await api.get("/metrics")).status()).toBe(401);
    expect((await api.get("/metrics", { headers: { authorization: "Bearer not-the-token-0123456789" } })).status()).toBe(401);

    const pages2xx = async () => {
      const r = await api.get("/metrics", { headers: { authorization: `Bearer ${token}` } });
      expect(r.status()).toBe(200);
      const text = await r.text();
      expect(text).toContain("# TYPE pages_answer_seconds histogram");
      return Number(/^pages_requests_total\{status="2xx"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    // A page load goes to Next.js; the count moves (with several web processes a scrape reaches one: retried).
    const before = await pages2xx();
    await expect(async () => {
      expect((await api.get("/")).status()).toBe(200);
      expect(await pages2xx()).toBeGreaterThan(before);
    }).toPass({ timeout: 30_000 });
    await api.dispose();
  });
});
