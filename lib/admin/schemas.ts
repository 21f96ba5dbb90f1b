import { z } from "zod";
import { DeductionMode, HumanCheck, OrderStatus } from "@/lib/generated/prisma/enums";
import { activityIdSchema } from "@/lib/flash/schemas";

// One schema per admin input, shared by the server actions and the /api/admin route handlers.
// Every message names what to fix, and the form shows it next to its field.

/** Largest stock an activity may be given (or restocked by) in one step. */
export const MAX_UNITS = 1_000_000;
/** Mirrors the buy schema's quantity limit: a per-user limit above it could never be reached. */
export const MAX_PER_USER = 99;
/** A new activity may start this long in the past: "now" typed into a minute-precision field. */
export const START_GRACE_MS = 60_000;

export const idSchema = activityIdSchema;

/** "12", "12.5", "12.50" yuan → 1250 fen, exactly (no floating point). */
export function yuanToMinor(value: string): number {
  const [whole, frac = ""] = value.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

export function minorToYuan(minor: number): string {
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")}`;
}

const yuan = (what: string) =>
  z.coerce
    .string()
    .trim()
    .regex(/^\d{1,8}(\.\d{1,2})?$/, `Enter the ${what} in yuan, e.g. 99.90`)
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

const instant = (what: string) =>
  z.coerce
    .string()
    .trim()
    .transform((value, ctx) => {
      const ms = value ? parseInstant(value) : null;
      if (ms === null) {
        ctx.addIssue({ code: "custom", message: `Enter the ${what} as a date and time` });
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
  name: z.string({ error: "Enter a name" }).trim().min(1, "Enter a name").max(120, "At most 120 characters"),
  description: z.string().trim().max(5000, "At most 5,000 characters").optional().default(""),
  listPrice: yuan("list price"),
  imageUrl: z
    .string()
    .trim()
    .refine((v) => v === "" || IMAGE_URL.test(v), "Upload the image again")
    .optional()
    .transform((v) => v || null),
});
export type ProductInput = z.output<typeof productSchema>;

export const updateProductSchema = productSchema.extend({ id: idSchema });
export const archiveProductSchema = z.object({ id: idSchema, archived: checkbox });

const activityFields = z.object({
  title: z.string({ error: "Enter a title" }).trim().min(1, "Enter a title").max(120, "At most 120 characters"),
  productId: z.string({ error: "Choose a product" }).regex(/^[a-z0-9]{8,40}$/, "Choose a product"),
  salePrice: yuan("sale price"),
  startAt: instant("start"),
  endAt: instant("end"),
  totalStock: whole("Enter a whole number of units")
    .min(1, "Stock must be at least 1")
    .max(MAX_UNITS, `At most ${MAX_UNITS.toLocaleString("en-US")} units`),
  perUserLimit: whole("Enter a whole number")
    .min(1, "The limit must be at least 1")
    .max(MAX_PER_USER, `At most ${MAX_PER_USER} per person`),
  deductionMode: z.enum(DeductionMode, { error: "Choose a deduction mode" }),
  paymentWindowMin: whole("Enter a whole number of minutes")
    .min(1, "The payment window must be at least 1 minute")
    .max(24 * 60, "At most 24 hours"),
  safetyStockPct: whole("Enter a whole percentage")
    .min(0, "The safety share is 0–30 %")
    .max(30, "The safety share is 0–30 %"),
  // The gate: may change while the sale is selling (an admin who sees bots switches the check on).
  humanCheck: z.enum(HumanCheck, { error: "Choose off or required" }).default("OFF"),
  captchaDifficulty: whole("Enter a whole number")
    .min(100, "At least 100")
    .max(1_000_000, "At most 1,000,000")
    .default(5000),
  /** Flagged non-payers are refused at admission; unset (an API client that does not say): yes. */
  refuseNonPayers: z
    .union([z.boolean(), z.enum(["true", "false", "on"])])
    .optional()
    .transform((v) => v === undefined || v === true || v === "true" || v === "on"),
});

type ActivityFields = z.output<typeof activityFields>;

function checkActivity(a: ActivityFields, ctx: z.RefinementCtx) {
  if (a.endAt.getTime() <= a.startAt.getTime()) {
    ctx.addIssue({ code: "custom", path: ["endAt"], message: "The end must be after the start" });
  }
}

/** Creating an activity: `schedule` publishes it at once, otherwise it stays a draft. */
export const createActivitySchema = activityFields.extend({ schedule: checkbox }).superRefine((a, ctx) => {
  checkActivity(a, ctx);
  if (a.startAt.getTime() < Date.now() - START_GRACE_MS) {
    ctx.addIssue({ code: "custom", path: ["startAt"], message: "The start is in the past" });
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
    units: whole("Enter a whole number of units")
      .min(1, "Add at least 1 unit")
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
