import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// The session is the one we choose; revalidatePath needs a Next.js request, so it is recorded instead.
const h = vi.hoisted(() => ({
  user: null as null | { id: string; role: "ADMIN" | "SHOPPER"; email?: string },
  revalidated: [] as string[],
  // Work handed to next/server's after(): run by the test when it wants (the second revalidation waits 5 s).
  later: [] as (() => unknown)[],
}));
vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => h.user,
  requireAdmin: async () => {
    if (!h.user) throw new Error("NEXT_REDIRECT sign-in");
    if (h.user.role !== "ADMIN") throw new Error("NEXT_HTTP_ERROR_FALLBACK;403");
    return h.user;
  },
  requireShopper: async () => h.user,
}));
vi.mock("next/cache", () => ({ revalidatePath: (p: string) => void h.revalidated.push(p) }));
vi.mock("next/server", async (original) => ({
  ...(await original<typeof import("next/server")>()),
  after: (task: () => unknown) => void h.later.push(task),
}));
const uploadDir = await vi.hoisted(async () => {
  const { mkdtempSync } = await import("node:fs");
  const dir = mkdtempSync(`${process.env.TMPDIR ?? "/tmp"}/admin-uploads-`);
  process.env.UPLOAD_DIR = dir;
  return dir;
});

import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { readState } from "@/lib/flash/store";
import * as productActions from "@/app/[locale]/(admin)/admin/products/actions";
import * as activityActions from "@/app/[locale]/(admin)/admin/activities/actions";
import * as activitiesRoute from "@/app/api/admin/activities/route";
import * as activityRoute from "@/app/api/admin/activities/[id]/route";
import * as controlsRoute from "@/app/api/admin/activities/[id]/controls/route";
import * as dashboardRoute from "@/app/api/admin/activities/[id]/dashboard/route";
import * as exportRoute from "@/app/api/admin/orders/export/route";
import * as uploadsRoute from "@/app/api/admin/uploads/route";
import * as uploadedRoute from "@/app/uploads/[name]/route";
import { SIMPLE_CONTROLS } from "@/lib/admin/schemas";
import { REBUILD_RACE_MS } from "@/lib/admin/revalidate";
import { createActivity, createUsers } from "../support/flash";
import { createAdmin, retire } from "../support/admin-fixtures";

// A 1×1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

let shopperId = "";
let demotedId = "";
let admin: Awaited<ReturnType<typeof createAdmin>>;
let activity: Awaited<ReturnType<typeof createActivity>>;
let productId = "";

beforeAll(async () => {
  shopperId = (await createUsers(1))[0]!;
  admin = await createAdmin();
  const demoted = await createAdmin();
  await db().user.update({ where: { id: demoted.id }, data: { role: "SHOPPER" } });
  demotedId = demoted.id;
  activity = await createActivity({ stock: 10, startInMs: 60_000 });
  productId = (await db().activity.findUniqueOrThrow({ where: { id: activity.id } })).productId;
});
afterAll(async () => retire(activity.id));

const future = (ms: number) => new Date(Date.now() + ms).toISOString();
const validActivity = () => ({
  title: "Should not exist",
  productId,
  salePrice: "9.90",
  startAt: future(120_000),
  endAt: future(3_720_000),
  totalStock: 10,
  perUserLimit: 1,
  deductionMode: "ORDER",
  paymentWindowMin: 10,
  safetyStockPct: 0,
  schedule: true,
});

/** Every admin server action, called with input that an admin would get accepted. */
function everyAction(): [string, () => Promise<{ ok: boolean; code?: string }>][] {
  const id = activity.id;
  const form = new FormData();
  form.set("name", "Form product");
  form.set("listPrice", "1.00");
  return [
    ["createProduct", () => productActions.createProductAction({ name: "Hacked", listPrice: "1.00" })],
    ["createProduct (form state)", () => productActions.createProductAction(null, form)],
    ["updateProduct", () => productActions.updateProductAction({ id: productId, name: "Hacked", listPrice: "0" })],
    ["archiveProduct", () => productActions.archiveProductAction({ id: productId, archived: true })],
    ["createActivity", () => activityActions.createActivityAction(validActivity())],
    ["updateActivity", () => activityActions.updateActivityAction({ ...validActivity(), id, title: "Hacked" })],
    ...SIMPLE_CONTROLS.map((action): [string, () => Promise<{ ok: boolean; code?: string }>] => [
      `control ${action}`,
      () => activityActions.runControlAction({ activityId: id, action }),
    ]),
    ["control restock", () => activityActions.runControlAction({ activityId: id, action: "restock", units: 5 })],
    [
      "control extend",
      () => activityActions.runControlAction({ activityId: id, action: "extend", endAt: future(9_000_000) }),
    ],
  ];
}

/** Every admin route handler, called with a request an admin would get answered. */
function everyRoute(): [string, () => Promise<Response>][] {
  const id = activity.id;
  const params = { params: Promise.resolve({ id }) };
  const json = (method: string, body: unknown) =>
    new Request("http://localhost/api/admin", {
      method,
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
  const upload = () => {
    const body = new FormData();
    body.set("file", new File([PNG], "p.png", { type: "image/png" }));
    return new Request("http://localhost/api/admin/uploads", { method: "POST", body });
  };
  return [
    ["POST /api/admin/activities", () => activitiesRoute.POST(json("POST", validActivity()), undefined)],
    [
      "PATCH /api/admin/activities/{id}",
      () => activityRoute.PATCH(json("PATCH", { ...validActivity(), title: "Hacked" }), params),
    ],
    ["POST /api/admin/activities/{id}/controls", () => controlsRoute.POST(json("POST", { action: "pause" }), params)],
    ["GET /api/admin/activities/{id}/dashboard", () => dashboardRoute.GET(new Request("http://localhost/"), params)],
    [
      "GET /api/admin/orders/export",
      () => exportRoute.GET(new Request("http://localhost/api/admin/orders/export"), undefined),
    ],
    ["POST /api/admin/uploads", () => uploadsRoute.POST(upload(), undefined)],
  ];
}

async function state() {
  const [products, activities, orders, audits, product, row, meta] = await Promise.all([
    db().product.count(),
    db().activity.count(),
    db().order.count(),
    db().auditLog.count(),
    db().product.findUniqueOrThrow({ where: { id: productId } }),
    db().activity.findUniqueOrThrow({ where: { id: activity.id } }),
    readState(redis(), activity.id),
  ]);
  return { products, activities, orders, audits, product, row, meta, uploads: readdirSync(uploadDir) };
}

describe("admin actions and API routes refuse anyone but an admin, on the server, without side effects", () => {
  const cases = [
    ["a shopper", () => ({ id: shopperId, role: "SHOPPER" as const }), "FORBIDDEN", 403],
    [
      "a demoted admin whose session still says ADMIN",
      () => ({ id: demotedId, role: "ADMIN" as const }),
      "FORBIDDEN",
      403,
    ],
    ["a visitor who is not signed in", () => null, "UNAUTHENTICATED", 401],
  ] as const;

  for (const [who, user, code, status] of cases) {
    it(`refuses ${who}`, async () => {
      h.user = user();
      h.revalidated = [];
      const before = await state();
      for (const [name, call] of everyAction()) {
        expect({ name, result: await call() }).toEqual({ name, result: { ok: false, code } });
      }
      for (const [name, call] of everyRoute()) {
        const res = await call();
        expect({ name, status: res.status, body: await res.json() }).toEqual({
          name,
          status,
          body: { ok: false, code },
        });
      }
      expect(await state()).toEqual(before);
      expect(h.revalidated).toEqual([]);
    });
  }

  it("lets an admin through (so the refusals above are not vacuous)", async () => {
    h.user = { id: admin.id, role: "ADMIN" };
    h.revalidated = [];
    expect(await activityActions.runControlAction({ activityId: activity.id, action: "pause" })).toMatchObject({
      ok: true,
    });
    expect(h.revalidated).toContain("/zh-CN");
    // Once more after the answer: a page rebuild begun before the change may have stored the old page meanwhile.
    const first = [...h.revalidated];
    expect(h.later).toHaveLength(1);
    vi.useFakeTimers();
    try {
      const done = h.later.pop()!();
      await vi.advanceTimersByTimeAsync(REBUILD_RACE_MS);
      await done;
    } finally {
      vi.useRealTimers();
    }
    expect(h.revalidated).toEqual([...first, ...first]);
    const res = await controlsRoute.POST(
      new Request("http://localhost/", { method: "POST", body: JSON.stringify({ action: "resume" }) }),
      { params: Promise.resolve({ id: activity.id }) },
    );
    expect(res.status).toBe(200);
    expect(await db().auditLog.count({ where: { activityId: activity.id, actorId: admin.id } })).toBe(2);
    const dash = await dashboardRoute.GET(new Request("http://localhost/"), {
      params: Promise.resolve({ id: activity.id }),
    });
    expect(dash.status).toBe(200);
    expect(((await dash.json()) as { activity: { id: string } }).activity.id).toBe(activity.id);
  });

  it("every admin page asks requireAdmin before doing anything else", async () => {
    const pages = import.meta.glob("/app/*/*/admin/**/{page,layout}.tsx");
    expect(Object.keys(pages).length).toBeGreaterThanOrEqual(10);
    h.user = { id: shopperId, role: "SHOPPER" };
    for (const [file, load] of Object.entries(pages)) {
      const mod = (await load()) as { default: (props: unknown) => Promise<unknown> };
      const props = { params: Promise.resolve({ id: activity.id }), searchParams: Promise.resolve({}), children: null };
      await expect(mod.default(props), file).rejects.toThrow("NEXT_HTTP_ERROR_FALLBACK;403");
    }
  });
});

describe("product images", () => {
  it("are stored by an admin and served with long-lived caching headers; other files are refused", async () => {
    h.user = { id: admin.id, role: "ADMIN" };
    const body = new FormData();
    body.set("file", new File([PNG], "pixel.png", { type: "image/png" }));
    const res = await uploadsRoute.POST(
      new Request("http://localhost/api/admin/uploads", { method: "POST", body }),
      undefined,
    );
    const result = (await res.json()) as { ok: boolean; url: string };
    expect(result).toMatchObject({ ok: true, url: expect.stringMatching(/^\/uploads\/[a-f0-9]{32}\.png$/) });
    expect(readdirSync(uploadDir)).toContain(path.basename(result.url));

    const name = path.basename(result.url);
    const served = await uploadedRoute.GET(new Request(`http://localhost${result.url}`), {
      params: Promise.resolve({ name }),
    });
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(served.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(Buffer.from(await served.arrayBuffer())).toEqual(PNG);
    const etag = served.headers.get("etag")!;
    const again = await uploadedRoute.GET(
      new Request(`http://localhost${result.url}`, { headers: { "if-none-match": etag } }),
      {
        params: Promise.resolve({ name }),
      },
    );
    expect(again.status).toBe(304);
    const traversal = await uploadedRoute.GET(new Request("http://localhost/"), {
      params: Promise.resolve({ name: "../../package.json" }),
    });
    expect(traversal.status).toBe(404);

    const svg = new FormData();
    svg.set("file", new File(["<svg onload='alert(1)'/>"], "x.png", { type: "image/png" }));
    const refused = await uploadsRoute.POST(
      new Request("http://localhost/api/admin/uploads", { method: "POST", body: svg }),
      undefined,
    );
    expect(refused.status).toBe(400);
  });
});
