import { expect, request, type APIRequestContext } from "@playwright/test";
import { createActivity } from "./db";
import { STORAGE } from "./users";

/** Signs an API client in through the standard next-auth credentials flow (README "API clients"). */
export async function apiSignIn(request: APIRequestContext, email: string, password: string) {
  const { csrfToken } = (await (await request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const res = await request.post("/api/auth/callback/credentials", {
    form: { csrfToken, email, password, json: "true" },
    maxRedirects: 0,
  });
  expect(res.status()).toBeLessThan(400);
  const session = (await (await request.get("/api/auth/session")).json()) as { user?: { email: string } };
  expect(session.user?.email).toBe(email);
}

/** The button's path: fetch the buy token, then post the order. */
export async function apiBuy(request: APIRequestContext, activityId: string, quantity = 1) {
  const t = await request.get(`/api/activities/${activityId}/token`);
  expect(t.status()).toBe(200);
  const { token } = (await t.json()) as { token: string };
  const res = await request.post(`/api/activities/${activityId}/orders`, {
    data: { quantity, idempotencyKey: `e2e-${Date.now()}-${Math.random().toString(36).slice(2)}`, token },
  });
  return { status: res.status(), body: (await res.json()) as { ticketId?: string; sequence?: number; code?: string } };
}

/**
 * Starts a sale created with a far start through the admin's "start early" control, so a test
 * never waits for (or races) the wall clock.
 */
export async function startSaleNow(baseURL: string | undefined, activityId: string) {
  await adminControl(baseURL, activityId, "start");
}

/** One of the admin's sale controls (start, pause, resume, end, cancel), as the console sends it. */
export async function adminControl(
  baseURL: string | undefined,
  activityId: string,
  action: "start" | "pause" | "resume" | "end" | "cancel",
) {
  const admin = await request.newContext({ baseURL, storageState: STORAGE.admin });
  const res = await admin.post(`/api/admin/activities/${activityId}/controls`, { data: { action } });
  expect(res.status()).toBe(200);
  await admin.dispose();
}

/** A sale created with a far start and started at once through the admin's control: live, with no clock to wait for. */
export async function createLiveSale(
  baseURL: string | undefined,
  opts: Omit<Parameters<typeof createActivity>[0], "startInMs">,
) {
  const activity = await createActivity({ ...opts, startInMs: 3600_000 });
  await startSaleNow(baseURL, activity.id);
  return activity;
}
