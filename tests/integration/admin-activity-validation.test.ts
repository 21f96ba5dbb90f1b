import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const h = vi.hoisted(() => ({ user: null as null | { id: string; role: "ADMIN" } }));
vi.mock("@/lib/auth/session", () => ({ currentUser: async () => h.user }));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));
// next/server's after() needs a Next.js request too; the second revalidation it schedules is not this test's.
vi.mock("next/server", async (original) => ({ ...(await original<typeof import("next/server")>()), after: () => undefined }));

import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { readSegmentLeft, readState } from "@/lib/flash/store";
import { createActivityAction, updateActivityAction } from "@/app/[locale]/(admin)/admin/activities/actions";
import * as activitiesRoute from "@/app/api/admin/activities/route";
import { createActivity } from "../support/flash";
import { createAdmin, retire } from "../support/admin-fixtures";

let productId = "";
let archivedId = "";
const created: string[] = [];

beforeAll(async () => {
  const admin = await createAdmin();
  h.user = { id: admin.id, role: "ADMIN" };
  const tag = Date.now().toString(36);
  productId = (await db().product.create({ data: { slug: `val-${tag}`, name: "Validation product", listPrice: 5000 } }))
    .id;
  archivedId = (
    await db().product.create({
      data: { slug: `val-old-${tag}`, name: "Old", listPrice: 5000, archivedAt: new Date() },
    })
  ).id;
});
afterAll(async () => {
  for (const id of created) await retire(id);
});

const at = (ms: number) => new Date(Date.now() + ms).toISOString();
const valid = () => ({
  title: "Validated sale",
  productId,
  salePrice: "19.90",
  startAt: at(3_600_000),
  endAt: at(7_200_000),
  totalStock: "100",
  perUserLimit: "2",
  deductionMode: "RESERVE",
  paymentWindowMin: "15",
  safetyStockPct: "10",
  schedule: "on",
});

/** A valid pre-sale phase for valid(): deposits from in 10 min to 40 min, 20 units, balance within 2 h. */
const presale = () => ({
  presaleDeposit: "5.00",
  presaleStartsAt: at(600_000),
  presaleEndsAt: at(2_400_000),
  presaleUnits: "20",
  balanceWindowMin: "120",
});

async function counts() {
  const [activities, audits] = await Promise.all([db().activity.count(), db().auditLog.count()]);
  return { activities, audits };
}

describe("activity settings are refused field by field, and nothing is stored", () => {
  const cases: [string, Record<string, unknown>, Record<string, string>][] = [
    ["an end before the start", { endAt: at(1_800_000) }, { endAt: "endAfterStart" }],
    ["an end equal to the start", { endAt: "same" }, { endAt: "endAfterStart" }],
    ["a stock below 1", { totalStock: "0" }, { totalStock: "stockMin" }],
    ["a fractional stock", { totalStock: "2.5" }, { totalStock: "wholeUnits" }],
    ["a limit below 1", { perUserLimit: "0" }, { perUserLimit: "limitMin" }],
    ["no stock segment", { stockSegments: "0" }, { stockSegments: "segmentsMin" }],
    ["more than 16 stock segments", { stockSegments: "17" }, { stockSegments: "segmentsMax" }],
    ["a fractional segment count", { stockSegments: "1.5" }, { stockSegments: "wholeNumber" }],
    ["a pre-queue on a split stock", { stockSegments: "4", prequeueMinutes: "10" }, { stockSegments: "segmentsPrequeue" }],
    ["a start in the past", { startAt: at(-3_600_000), endAt: at(3_600_000) }, { startAt: "startPast" }],
    ["a safety share above 30 %", { safetyStockPct: "31" }, { safetyStockPct: "safetyRange" }],
    ["a price that is not money", { salePrice: "12.345" }, { salePrice: "salePriceYuan" }],
    ["no title", { title: "  " }, { title: "enterTitle" }],
    ["an unknown deduction mode", { deductionMode: "LATER" }, { deductionMode: "chooseMode" }],
    [
      "a payment window of 0",
      { paymentWindowMin: "0" },
      { paymentWindowMin: "windowMin" },
    ],
    ["a start that is not a time", { startAt: "tomorrow" }, { startAt: "startDate" }],
    ["an unknown product", { productId: "nosuchproduct1" }, { productId: "chooseProduct" }],
    ["an archived product", { productId: "archived" }, { productId: "productArchived" }],
    // Pre-sale (docs/presale.md)
    ["a deposit that is not money", { ...presale(), presaleDeposit: "1.234" }, { presaleDeposit: "depositYuan" }],
    ["a deposit that is negative", { ...presale(), presaleDeposit: "-5" }, { presaleDeposit: "depositYuan" }],
    ["a deposit not below the price", { ...presale(), presaleDeposit: "19.90" }, { presaleDeposit: "depositBelowPrice" }],
    ["a deposit in PAYMENT mode", { ...presale(), deductionMode: "PAYMENT" }, { deductionMode: "presaleMode" }],
    [
      "a deposit without its window and units",
      { presaleDeposit: "5" },
      { presaleStartsAt: "presaleStartDate", presaleEndsAt: "presaleEndDate", presaleUnits: "presaleUnitsRange" },
    ],
    ["deposits that close after the start", { ...presale(), presaleEndsAt: at(4_000_000) }, { presaleEndsAt: "presaleEndBeforeSale" }],
    ["deposits that close 5 minutes before the start", { ...presale(), presaleEndsAt: at(3_300_000) }, { presaleEndsAt: "presaleEndBeforeSale" }],
    ["deposits that close before they open", { ...presale(), presaleEndsAt: at(500_000) }, { presaleEndsAt: "presaleEndAfterStart" }],
    ["a deposit window that is not a time", { ...presale(), presaleStartsAt: "soon" }, { presaleStartsAt: "presaleStartDate" }],
    ["more pre-sale units than stock", { ...presale(), presaleUnits: "101" }, { presaleUnits: "presaleUnitsStock" }],
    ["a balance window of 0", { ...presale(), balanceWindowMin: "0" }, { balanceWindowMin: "balanceWindowRange" }],
    ["a fractional balance window", { ...presale(), balanceWindowMin: "1.5" }, { balanceWindowMin: "wholeMinutes" }],
    [
      "several mistakes at once",
      { totalStock: "0", perUserLimit: "0", title: "" },
      { totalStock: "stockMin", perUserLimit: "limitMin", title: "enterTitle" },
    ],
  ];

  for (const [what, change, fieldErrors] of cases) {
    it(`refuses ${what}`, async () => {
      const input: Record<string, unknown> = { ...valid(), ...change };
      if (input.endAt === "same") input.endAt = input.startAt;
      if (input.productId === "archived") input.productId = archivedId;
      const form = new FormData();
      for (const [k, v] of Object.entries(input)) form.set(k, String(v));
      const before = await counts();
      const result = await createActivityAction(null, form);
      expect(result).toEqual({
        ok: false,
        code: "BAD_INPUT",
        message: "correctFields",
        fieldErrors,
      });
      expect(await counts()).toEqual(before);
    });
  }

  it("answers the API with the same schema: 400 and the same messages", async () => {
    const before = await counts();
    const res = await activitiesRoute.POST(
      new Request("http://localhost/api/admin/activities", {
        method: "POST",
        body: JSON.stringify({ ...valid(), totalStock: 0 }),
      }),
      undefined,
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: "BAD_INPUT",
      fieldErrors: { totalStock: "stockMin" },
    });
    expect(await counts()).toEqual(before);
  });

  it("stores a valid pre-sale phase: deposit in minor units, window, units, balance window in seconds", async () => {
    const result = await createActivityAction({ ...valid(), ...presale() });
    expect(result).toMatchObject({ ok: true });
    const id = (result as { id: string }).id;
    created.push(id);
    const a = await db().activity.findUniqueOrThrow({ where: { id } });
    expect(a).toMatchObject({ presaleDeposit: 500, presaleUnits: 20, balanceWindowSec: 7200 });
    expect(a.presaleEndsAt!.getTime() - a.presaleStartsAt!.getTime()).toBeGreaterThan(1_700_000);
  });

  it("stores valid settings: minor units, sellable stock, seconds, one audit entry", async () => {
    const result = await createActivityAction(valid());
    expect(result).toMatchObject({ ok: true });
    const id = (result as { id: string }).id;
    created.push(id);
    const a = await db().activity.findUniqueOrThrow({ where: { id } });
    expect(a).toMatchObject({
      salePrice: 1990,
      totalStock: 100,
      safetyStockPct: 10,
      stock: 90,
      perUserLimit: 2,
      deductionMode: "RESERVE",
      paymentWindowSec: 900,
      status: "SCHEDULED",
    });
    expect((await db().auditLog.findMany({ where: { activityId: id } })).map((e) => e.action)).toEqual([
      "activity.create",
    ]);
  });
});

describe("editing", () => {
  it("a selling activity refuses stock, rules and times but takes a new title", async () => {
    const a = await createActivity({ stock: 10 });
    created.push(a.id);
    const row = await db().activity.findUniqueOrThrow({ where: { id: a.id } });
    const same = {
      id: a.id,
      title: row.title,
      productId: row.productId,
      salePrice: "9.90",
      startAt: row.startAt.toISOString(),
      endAt: row.endAt.toISOString(),
      totalStock: row.totalStock,
      perUserLimit: row.perUserLimit,
      deductionMode: row.deductionMode,
      paymentWindowMin: 10,
      safetyStockPct: 0,
    };
    const refused = await updateActivityAction({
      ...same,
      totalStock: 50,
      perUserLimit: 3,
      stockSegments: 4,
      endAt: new Date(row.endAt.getTime() + 60_000).toISOString(),
    });
    expect(refused).toMatchObject({
      ok: false,
      code: "BAD_INPUT",
      fieldErrors: {
        totalStock: "lockedStock",
        perUserLimit: "locked",
        stockSegments: "locked",
        endAt: "lockedEnd",
      },
    });
    expect(await db().activity.findUniqueOrThrow({ where: { id: a.id } })).toEqual(row);

    expect(await updateActivityAction({ ...same, title: "Renamed live sale" })).toMatchObject({ ok: true });
    const renamed = await db().activity.findUniqueOrThrow({ where: { id: a.id } });
    expect(renamed).toMatchObject({ title: "Renamed live sale", totalStock: row.totalStock, stock: row.stock });
  });

  it("a preheated activity nobody has bought from yet is re-preheated with its new stock", async () => {
    const result = await createActivityAction({
      ...valid(),
      startAt: at(120_000),
      endAt: at(3_600_000),
      totalStock: 10,
      safetyStockPct: 0,
    });
    expect(result).toMatchObject({ ok: true });
    const id = (result as { id: string }).id;
    created.push(id);
    // Starts within the preheat lead, so creating it preheated it.
    expect((await readState(redis(), id))?.stock).toBe(10);
    const row = await db().activity.findUniqueOrThrow({ where: { id } });
    const edit = (more: Record<string, unknown> = {}) =>
      updateActivityAction({
        ...valid(),
        id,
        startAt: row.startAt.toISOString(),
        endAt: row.endAt.toISOString(),
        totalStock: 20,
        safetyStockPct: 10,
        ...more,
      });
    expect(await edit()).toMatchObject({ ok: true });
    expect(await db().activity.findUniqueOrThrow({ where: { id } })).toMatchObject({ totalStock: 20, stock: 18 });
    expect((await readState(redis(), id))?.stock).toBe(18);

    // Split into 4 segments before anyone bought: preheated again, the 18 units shared out.
    expect(await edit({ stockSegments: 4 })).toMatchObject({ ok: true });
    expect(await db().activity.findUniqueOrThrow({ where: { id } })).toMatchObject({ stockSegments: 4, stock: 18 });
    expect(await readState(redis(), id)).toMatchObject({ stock: 18, segments: 4 });
    expect(await readSegmentLeft(redis(), id, 4)).toEqual([5, 4, 4]);
  });
});
