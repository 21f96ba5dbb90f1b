import "server-only";
import type { Activity } from "@/lib/generated/prisma/client";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { errorText, log } from "@/lib/log";
import { sellableUnits } from "@/lib/catalog/stock";
import { preheatIfDue } from "@/lib/flash/preheat";
import { mirrorRules, publishChange, readState, resetUnsold } from "@/lib/flash/store";
import { recordAudit } from "@/lib/admin/audit";
import { badInput, fail, type AdminResult } from "@/lib/admin/results";
import { START_GRACE_MS, idSchema, type CreateActivityInput, type UpdateActivityInput } from "@/lib/admin/schemas";
import { slugFrom } from "@/lib/admin/slug";

const adminLog = log.child({ component: "admin-activities" });

export async function listActivities() {
  return db().activity.findMany({
    orderBy: [{ startAt: "desc" }],
    take: 200,
    include: { product: { select: { name: true } } },
  });
}

export async function getActivity(id: string) {
  if (!idSchema.safeParse(id).success) return null;
  return db().activity.findUnique({ where: { id }, include: { product: true } });
}

export function hasStarted(a: Pick<Activity, "startAt">, now = Date.now()): boolean {
  return a.startAt.getTime() <= now;
}

export type AdminActivity = NonNullable<Awaited<ReturnType<typeof getActivity>>>;

/** Products an activity may be made of: those not archived. */
export async function listSaleableProducts() {
  return db().product.findMany({
    where: { archivedAt: null },
    orderBy: { name: "asc" },
    select: { id: true, name: true, listPrice: true, currency: true },
  });
}

async function checkProduct(productId: string): Promise<string | null> {
  const p = await db().product.findUnique({ where: { id: productId }, select: { archivedAt: true } });
  if (!p) return "chooseProduct";
  if (p.archivedAt) return "productArchived";
  return null;
}

/**
 * Preheats a saved sale if it starts soon. The scheduler does it within a second anyway, so a
 * failure here is only logged: the save stands and the admin sees the sale preheat shortly.
 */
async function preheatSaved(a: Pick<Activity, "id" | "status" | "startAt">) {
  await preheatIfDue(db(), redis(), a).catch((e: unknown) =>
    adminLog.error({ activityId: a.id, err: errorText(e) }, "preheat after save failed; the scheduler retries"),
  );
}

/** Best effort: the processes' cached states expire within two seconds without it. */
export async function publishEvent(activityId: string, event: string): Promise<void> {
  await publishChange(redis(), activityId, event).catch((e: unknown) =>
    adminLog.warn({ activityId, event, err: errorText(e) }, "change event not published; caches expire on their own"),
  );
}

export async function createActivity(
  input: CreateActivityInput,
  actorId: string,
): Promise<AdminResult<{ id: string; slug: string }>> {
  const productError = await checkProduct(input.productId);
  if (productError) return badInput({ productId: productError });
  const { schedule, paymentWindowMin, balanceWindowMin, ...fields } = input;
  const a = await db().$transaction(async (tx) => {
    const created = await tx.activity.create({
      data: {
        ...fields,
        slug: slugFrom(input.title, "sale"),
        paymentWindowSec: paymentWindowMin * 60,
        balanceWindowSec: balanceWindowMin * 60,
        stock: sellableUnits(input.totalStock, input.safetyStockPct),
        status: schedule ? "SCHEDULED" : "DRAFT",
      },
    });
    await recordAudit(tx, { actorId, action: "activity.create", activityId: created.id, details: snapshotOf(created) });
    return created;
  });
  await preheatSaved(a);
  return { ok: true, id: a.id, slug: a.slug };
}

// What an edit may change, and what it may no longer change once the sale is selling.
const EDITABLE = [
  "title",
  "productId",
  "salePrice",
  "startAt",
  "endAt",
  "totalStock",
  "safetyStockPct",
  "perUserLimit",
  "stockSegments",
  "deductionMode",
  "paymentWindowSec",
  "humanCheck",
  "captchaDifficulty",
  "refuseNonPayers",
  "prequeueMinutes",
  "presaleDeposit",
  "presaleStartsAt",
  "presaleEndsAt",
  "presaleUnits",
  "balanceWindowSec",
] as const;
/** Pre-sale's terms: fixed once a shopper has a pre-sale order (they paid, or may pay, on those terms). */
const PRESALE_TERMS: readonly Editable[] = ["presaleDeposit", "presaleStartsAt", "presaleEndsAt", "presaleUnits", "balanceWindowSec", "salePrice", "deductionMode", "perUserLimit"];
type Editable = (typeof EDITABLE)[number];
/** Editable even while selling: the title and the gate's settings. */
const ALWAYS_EDITABLE: readonly Editable[] = ["title", "humanCheck", "captchaDifficulty"];

const LOCKED_MESSAGE: Partial<Record<Editable, string>> = {
  totalStock: "lockedStock",
  safetyStockPct: "lockedSafety",
  endAt: "lockedEnd",
  startAt: "lockedStart",
};

function same(a: Activity, key: Editable, value: unknown): boolean {
  const current = a[key];
  // Forms carry seconds at most; compare times to the second.
  if (current instanceof Date && value instanceof Date)
    return Math.floor(current.getTime() / 1000) === Math.floor(value.getTime() / 1000);
  return current === value;
}

/**
 * Edits an activity. Before its start, anything may change; once it is selling (live, started, or
 * anyone admitted), only the title: stock and end have their own run controls, the rest is fixed.
 * A preheated activity that nobody was admitted to is forgotten in Redis and preheated again from
 * PostgreSQL, since preheat never overwrites stock.
 */
export async function updateActivity(
  input: UpdateActivityInput,
  actorId: string,
): Promise<AdminResult<{ id: string; slug: string }>> {
  const a = await db().activity.findUnique({ where: { id: input.id } });
  if (!a) return fail("NOT_FOUND", "saleMissing");
  if (a.status === "ENDED" || a.status === "CANCELLED")
    return fail("CONFLICT", "saleClosed");

  const next: Pick<Activity, Editable> = {
    title: input.title,
    productId: input.productId,
    salePrice: input.salePrice,
    startAt: input.startAt,
    endAt: input.endAt,
    totalStock: input.totalStock,
    safetyStockPct: input.safetyStockPct,
    perUserLimit: input.perUserLimit,
    stockSegments: input.stockSegments,
    deductionMode: input.deductionMode,
    // The form works in minutes: an unchanged minute count keeps a window stored to the second.
    paymentWindowSec:
      input.paymentWindowMin === Math.round(a.paymentWindowSec / 60) ? a.paymentWindowSec : input.paymentWindowMin * 60,
    humanCheck: input.humanCheck,
    captchaDifficulty: input.captchaDifficulty,
    refuseNonPayers: input.refuseNonPayers,
    prequeueMinutes: input.prequeueMinutes,
    presaleDeposit: input.presaleDeposit,
    presaleStartsAt: input.presaleDeposit > 0 ? input.presaleStartsAt : null,
    presaleEndsAt: input.presaleDeposit > 0 ? input.presaleEndsAt : null,
    presaleUnits: input.presaleUnits,
    balanceWindowSec:
      input.balanceWindowMin === Math.round(a.balanceWindowSec / 60) ? a.balanceWindowSec : input.balanceWindowMin * 60,
  };
  const changed = EDITABLE.filter((k) => !same(a, k, next[k]));
  if (changed.length === 0) return { ok: true, id: a.id, slug: a.slug };

  // A sale split into channels (docs/channels.md) has one segment, no pre-queue, no pre-sale, and shares that sum to its stock.
  if ((await db().saleChannel.count({ where: { activityId: a.id } })) > 0) {
    const errors: Record<string, string> = {};
    if (next.prequeueMinutes > 0) errors.prequeueMinutes = "channelsExclusive";
    if (next.stockSegments > 1) errors.stockSegments = "channelsExclusive";
    // Pre-sale units come off the total stock, which the channels' shares already split (docs/presale.md).
    if (next.presaleDeposit > 0) errors.presaleDeposit = "channelsExclusive";
    if (changed.includes("totalStock") || changed.includes("safetyStockPct")) errors.totalStock = "channelsFirst";
    if (Object.keys(errors).length) return badInput(errors);
  }

  const admitted = (await readState(redis(), a.id))?.admitted ?? 0;
  const selling = a.status === "LIVE" || a.startAt.getTime() <= Date.now() || admitted > 0;
  if (selling) {
    const locked = changed.filter((k) => !ALWAYS_EDITABLE.includes(k));
    if (locked.length) {
      return badInput(
        Object.fromEntries(locked.map((k) => [fieldName(k), LOCKED_MESSAGE[k] ?? "locked"])),
      );
    }
  }
  // Pre-sale orders hold units of this sale (docs/presale.md): their terms stay, and the stock written
  // below leaves their units out. A deposit taken meanwhile changes updated_at: the write below then conflicts.
  const [presale] = await db().$queryRaw<{ orders: number; held: number }[]>`
    SELECT count(*)::int AS orders,
           coalesce(sum(quantity) FILTER (WHERE status IN ('PENDING_PAYMENT', 'PAID')), 0)::int AS held
    FROM orders WHERE activity_id = ${a.id} AND deposit IS NOT NULL`;
  const presaleHeld = presale?.held ?? 0;
  if (!selling) {
    const errors: Record<string, string> = {};
    if (presale && presale.orders > 0)
      for (const k of changed.filter((c) => PRESALE_TERMS.includes(c))) errors[fieldName(k)] = "lockedPresale";
    if (sellableUnits(next.totalStock, next.safetyStockPct) < presaleHeld) errors.totalStock = "stockBelowPresale";
    if (changed.includes("startAt") && next.startAt.getTime() < Date.now() - START_GRACE_MS)
      errors.startAt = "startPast";
    if (changed.includes("productId")) {
      const productError = await checkProduct(next.productId);
      if (productError) errors.productId = productError;
    }
    if (Object.keys(errors).length) return badInput(errors);
  }

  const data = selling
    ? { title: next.title, humanCheck: next.humanCheck, captchaDifficulty: next.captchaDifficulty }
    : { ...next, stock: sellableUnits(next.totalStock, next.safetyStockPct) - presaleHeld };
  const details = Object.fromEntries(changed.map((k) => [k, { from: jsonOf(a[k]), to: jsonOf(next[k]) }]));
  const updated = await db().$transaction(async (tx) => {
    // Conditional on the row read above, so two concurrent edits cannot both apply.
    const n = await tx.activity.updateMany({ where: { id: a.id, updatedAt: a.updatedAt, status: a.status }, data });
    if (n.count !== 1) return false;
    await recordAudit(tx, { actorId, action: "activity.update", activityId: a.id, details });
    return true;
  });
  if (!updated) return fail("CONFLICT", "saleChanged");

  if (!selling) {
    if (!(await resetUnsold(redis(), a.id))) {
      // Someone was admitted between the check and now: put the sale back as it was.
      await db().$transaction(async (tx) => {
        await tx.activity.update({
          where: { id: a.id },
          data: { ...Object.fromEntries(EDITABLE.map((k) => [k, a[k]])), stock: a.stock },
        });
        await recordAudit(tx, { actorId, action: "activity.update.reverted", activityId: a.id, details });
      });
      return fail("CONFLICT", "saleStarted");
    }
    await preheatSaved({ ...a, ...next });
  } else if (changed.includes("humanCheck") || changed.includes("captchaDifficulty")) {
    // Only the gate's rules changed on a selling sale: written to Redis like the other rules.
    await mirrorRules(redis(), a.id, { passRequired: next.humanCheck === "REQUIRED", captchaDifficulty: next.captchaDifficulty });
  }
  await publishEvent(a.id, "update");
  return { ok: true, id: a.id, slug: a.slug };
}

/** Form field names differ from columns where units differ (minutes in the form, seconds stored). */
function fieldName(k: Editable): string {
  return k === "paymentWindowSec" ? "paymentWindowMin" : k === "balanceWindowSec" ? "balanceWindowMin" : k;
}

function jsonOf(v: unknown): string | number | boolean | null {
  if (v instanceof Date) return v.toISOString();
  return v as string | number | boolean | null;
}

function snapshotOf(a: Activity) {
  return Object.fromEntries([...EDITABLE, "status" as const].map((k) => [k, jsonOf(a[k])]));
}
