import { z } from "zod";
import { DeductionMode, HumanCheck, OrderStatus } from "@/lib/generated/prisma/enums";
import { activityIdSchema } from "@/lib/flash/schemas";
import { MAX_SEGMENTS } from "@/lib/flash/store/layout";

// One schema per admin input, shared by the server actions and the /api/admin route handlers.
// Every message names what to fix, and the form shows it next to its field. Messages are keys of
// the "validation" namespace in messages/*.json (the form translates them; API clients get the key).

/** Largest stock an activity may be given (or restocked by) in one step. */
export const MAX_UNITS = 1_000_000;
/** Mirrors the buy schema's quantity limit: a per-user limit above it could never be reached. */
export const MAX_PER_USER = 99;
/** Largest product image: the form says it and checks it before uploading; the upload route enforces it. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** A new activity may start this long in the past: "now" typed into a minute-precision field. */
export const START_GRACE_MS = 60_000;
/**
 * Deposits close at least this long before the flash sale's start: its preheat (PREHEAT_LEAD_MS in
 * lib/flash/preheat.ts, server-only, so repeated here; a test keeps them equal) moves the stock to Redis,
 * and from then on no deposit is taken (docs/presale.md).
 */
export const PRESALE_CLOSE_LEAD_MS = 10 * 60_000;

export const idSchema = activityIdSchema;

/** "12", "12.5", "12.50" yuan → 1250 fen, exactly (no floating point). */
export function yuanToMinor(value: string): number {
  const [whole, frac = ""] = value.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

export function minorToYuan(minor: number): string {
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")}`;
}

const yuan = (message: string) =>
  z.coerce
    .string()
    .trim()
    .regex(/^\d{1,8}(\.\d{1,2})?$/, message)
    .transform(yuanToMinor);

const whole = (message: string) => z.coerce.number({ error: message }).int(message);

/**
 * A point in time: an ISO string with an offset (what the console's forms and API clients send),
 * or a bare "YYYY-MM-DDTHH:mm[:ss]", read as UTC.
 */
export function parseInstant(value: string): number | null {
  const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (!m) return null;
  const ms = Date.parse(m[3] ? value : `${value}Z`);
  return Number.isNaN(ms) ? null : ms;
}

const instant = (message: string) =>
  z.coerce
    .string()
    .trim()
    .transform((value, ctx) => {
      const ms = value ? parseInstant(value) : null;
      if (ms === null) {
        ctx.addIssue({ code: "custom", message });
        return z.NEVER;
      }
      return new Date(ms);
    });

/** An instant that may be left empty (an optional field of the form): empty → null. */
const optionalInstant = (message: string) =>
  z.coerce
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (!value) return null;
      const ms = parseInstant(value);
      if (ms === null) {
        ctx.addIssue({ code: "custom", message });
        return z.NEVER;
      }
      return new Date(ms);
    });

const checkbox = z
  .union([z.boolean(), z.literal("on"), z.literal("true"), z.literal("false"), z.literal("")])
  .optional()
  .transform((v) => v === true || v === "on" || v === "true");

// Product images are either uploaded (/uploads/…) or shipped with the app (/images/…).
export const IMAGE_URL = /^\/(uploads|images)\/[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/;

export const productSchema = z.object({
  name: z.string({ error: "enterName" }).trim().min(1, "enterName").max(120, "max120"),
  description: z.string().trim().max(5000, "max5000").optional().default(""),
  listPrice: yuan("listPriceYuan"),
  imageUrl: z
    .string()
    .trim()
    .refine((v) => v === "" || IMAGE_URL.test(v), "uploadAgain")
    .optional()
    .transform((v) => v || null),
});
export type ProductInput = z.output<typeof productSchema>;

export const updateProductSchema = productSchema.extend({ id: idSchema });
export const archiveProductSchema = z.object({ id: idSchema, archived: checkbox });

const activityFields = z.object({
  title: z.string({ error: "enterTitle" }).trim().min(1, "enterTitle").max(120, "max120"),
  productId: z.string({ error: "chooseProduct" }).regex(/^[a-z0-9]{8,40}$/, "chooseProduct"),
  salePrice: yuan("salePriceYuan"),
  startAt: instant("startDate"),
  endAt: instant("endDate"),
  totalStock: whole("wholeUnits").min(1, "stockMin").max(MAX_UNITS, "stockMax"),
  perUserLimit: whole("wholeNumber").min(1, "limitMin").max(MAX_PER_USER, "limitMax"),
  /** Segments of the hot stock counter in Redis (docs/architecture.md, "Split stock"); unset: 1, not split. */
  stockSegments: whole("wholeNumber").min(1, "segmentsMin").max(MAX_SEGMENTS, "segmentsMax").default(1),
  deductionMode: z.enum(DeductionMode, { error: "chooseMode" }),
  paymentWindowMin: whole("wholeMinutes").min(1, "windowMin").max(24 * 60, "windowMax"),
  safetyStockPct: whole("wholePercent").min(0, "safetyRange").max(30, "safetyRange"),
  // The gate: may change while the sale is selling (an admin who sees bots switches the check on).
  humanCheck: z.enum(HumanCheck, { error: "chooseCheck" }).default("OFF"),
  captchaDifficulty: whole("wholeNumber").min(100, "atLeast100").max(1_000_000, "atMost1M").default(5000),
  /** Fair entry: minutes before the start during which shoppers join the pre-queue (0: none). */
  prequeueMinutes: whole("wholeMinutes").min(0, "prequeueRange").max(60, "prequeueRange").default(0),
  /** Pre-sale (docs/presale.md): deposit per unit in yuan; 0 or unset: no pre-sale phase. */
  presaleDeposit: yuan("depositYuan").optional().default(0),
  presaleStartsAt: optionalInstant("presaleStartDate"),
  presaleEndsAt: optionalInstant("presaleEndDate"),
  presaleUnits: whole("wholeUnits").min(0, "presaleUnitsRange").max(MAX_UNITS, "presaleUnitsRange").default(0),
  balanceWindowMin: whole("wholeMinutes").min(1, "balanceWindowRange").max(7 * 24 * 60, "balanceWindowRange").default(60),
  /** Flagged non-payers are refused at admission; unset (an API client that does not say): yes. */
  refuseNonPayers: z
    .union([z.boolean(), z.enum(["true", "false", "on"])])
    .optional()
    .transform((v) => v === undefined || v === true || v === "true" || v === "on"),
});

type ActivityFields = z.output<typeof activityFields>;

function checkActivity(a: ActivityFields, ctx: z.RefinementCtx) {
  if (a.endAt.getTime() <= a.startAt.getTime()) {
    ctx.addIssue({ code: "custom", path: ["endAt"], message: "endAfterStart" });
  }
  // Fair entry holds drawn shoppers' units in the sale's own counter (segment 0): a pre-queue sale is not split.
  if (a.prequeueMinutes > 0 && a.stockSegments > 1) {
    ctx.addIssue({ code: "custom", path: ["stockSegments"], message: "segmentsPrequeue" });
  }
  if (a.presaleDeposit > 0) {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    // The deposit is part of the price: a balance must be left to pay after the flash sale opens.
    if (a.presaleDeposit >= a.salePrice) issue("presaleDeposit", "depositBelowPrice");
    // PAYMENT mode takes stock only at payment; a deposit takes its unit at once, so the two do not mix.
    if (a.deductionMode === "PAYMENT") issue("deductionMode", "presaleMode");
    if (!a.presaleStartsAt) issue("presaleStartsAt", "presaleStartDate");
    if (!a.presaleEndsAt) issue("presaleEndsAt", "presaleEndDate");
    else if (a.presaleStartsAt && a.presaleEndsAt <= a.presaleStartsAt) issue("presaleEndsAt", "presaleEndAfterStart");
    else if (a.presaleEndsAt.getTime() > a.startAt.getTime() - PRESALE_CLOSE_LEAD_MS) issue("presaleEndsAt", "presaleEndBeforeSale");
    if (a.presaleUnits < 1) issue("presaleUnits", "presaleUnitsRange");
    else if (a.presaleUnits > a.totalStock) issue("presaleUnits", "presaleUnitsStock");
  }
}

/** Creating an activity: `schedule` publishes it at once, otherwise it stays a draft. */
export const createActivitySchema = activityFields.extend({ schedule: checkbox }).superRefine((a, ctx) => {
  checkActivity(a, ctx);
  if (a.startAt.getTime() < Date.now() - START_GRACE_MS) {
    ctx.addIssue({ code: "custom", path: ["startAt"], message: "startPast" });
  }
});
export type CreateActivityInput = z.output<typeof createActivitySchema>;

/** Editing an activity: the same fields; rules that depend on its state are checked in lib/admin/activities.ts. */
export const updateActivitySchema = activityFields.extend({ id: idSchema }).superRefine(checkActivity);
export type UpdateActivityInput = z.output<typeof updateActivitySchema>;

export const SIMPLE_CONTROLS = ["preheat", "schedule", "start", "pause", "resume", "end", "cancel"] as const;
export type SimpleControl = (typeof SIMPLE_CONTROLS)[number];

/** Run controls: one input shape for the console's buttons and POST /api/admin/activities/{id}/controls. */
export const controlSchema = z.discriminatedUnion("action", [
  z.object({ activityId: idSchema, action: z.enum(SIMPLE_CONTROLS) }),
  z.object({
    activityId: idSchema,
    action: z.literal("restock"),
    units: whole("wholeUnits")
      .min(1, "addOneUnit")
      .max(MAX_UNITS, `At most ${MAX_UNITS.toLocaleString("en-US")} units`),
  }),
  z.object({ activityId: idSchema, action: z.literal("extend"), endAt: instant("new end") }),
]);
export type ControlInput = z.output<typeof controlSchema>;
export type ControlAction = ControlInput["action"];

const optionalEnum = <T extends Record<string, string>>(values: T) => z.enum(values).optional().catch(undefined);

/** Filters of the orders list and the CSV export (from search params: bad values are dropped, not refused). */
export const orderFilterSchema = z.object({
  activityId: idSchema.optional().catch(undefined),
  status: optionalEnum(OrderStatus),
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(200)
    // PostgreSQL text cannot hold NUL: such a filter would fail mid-export.
    .regex(/^[^\u0000-\u001f\u007f]*$/)
    .optional()
    .catch(undefined)
    .transform((v) => v || undefined),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1).default(1),
});
export interface OrderFilter {
  activityId?: string;
  status?: OrderStatus;
  email?: string;
  page: number;
}

/** FormData (or a plain object) to what the schemas take: repeated names keep their last value. */
export function formToObject(input: unknown): unknown {
  if (typeof FormData !== "undefined" && input instanceof FormData) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of input.entries()) if (!key.startsWith("$ACTION")) out[key] = value;
    return out;
  }
  return input;
}
