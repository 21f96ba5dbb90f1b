import "server-only";
import { z } from "zod";

// Order lifecycle and payments (lib/orders, lib/payments). Secrets here never reach the client bundle.
const paymentVariables = {
  /** Which provider takes payments: the offline sandbox (default) or Stripe. */
  PAYMENT_PROVIDER: z.enum(["sandbox", "stripe"]).default("sandbox"),
  /** Signs the sandbox provider's notifications (HMAC-SHA256). Unset: derived from NEXTAUTH_SECRET. */
  SANDBOX_WEBHOOK_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** How the sandbox delivers notifications unless a session asks otherwise: normal | late | twice | never. */
  SANDBOX_DELIVERY: z.enum(["normal", "late", "twice", "never"]).default("normal"),
  /** The delay of a "late" sandbox notification. */
  SANDBOX_LATE_MS: z.coerce.number().int().min(0).max(600_000).default(8_000),
  /** Notifications signed longer ago than this are refused (replay window). */
  PAYMENT_WEBHOOK_TOLERANCE_SEC: z.coerce.number().int().min(1).max(3600).default(300),
  /** Seconds after the shopper returned from the pay page without a notification before the shop asks the provider. */
  PAYMENT_QUERY_AFTER_SEC: z.coerce.number().int().min(0).max(3600).default(5),
  /** Base URL the payment provider sends the shopper back to and notifications to. Unset: NEXTAUTH_URL. */
  PUBLIC_BASE_URL: z.url().optional(),
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_/, "must be a Stripe secret key (sk_…)").optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_/, "must be a Stripe webhook secret (whsec_…)").optional(),
  /** Stripe API base, e.g. a local Stripe-speaking server for offline tests. Unset: api.stripe.com. */
  STRIPE_API_BASE: z.url().optional(),
  /** PAYMENT mode admits this many orders per unit of stock (late payers are refused and refunded). */
  PAYMENT_OVER_ADMISSION: z.coerce.number().min(1).max(10).default(1.5),
  /** Unpaid orders the expiry sweeper closes per transaction. */
  EXPIRY_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  /** A shopper who lets this many orders expire is flagged as a non-payer. */
  NONPAYER_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(3),
  /** Seconds between scheduled reconciliation runs in the workers (0: never). */
  RECONCILE_EVERY_SEC: z.coerce.number().int().min(0).max(86_400).default(300),
};

// Every variable the server reads, validated once. A bad value stops start-up with one line naming it.
const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL"),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must be a redis:// URL"),
  NEXTAUTH_SECRET: z.string().min(32, "must be at least 32 characters"),
  NEXTAUTH_URL: z.url().optional(),
  /** Derives the per-user buy tokens handed out once an activity is live. */
  FLASH_TOKEN_SECRET: z.string().min(32, "must be at least 32 characters"),
  /** Orders each worker writes per PostgreSQL transaction. */
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(200),
  /** Where uploaded product images are stored. */
  UPLOAD_DIR: z.string().default(".data/uploads"),
  ...paymentVariables,
});

export type Env = z.infer<typeof schema>;

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = schema
    .refine((e) => e.PAYMENT_PROVIDER !== "stripe" || (e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET), {
      message: "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET",
      path: ["PAYMENT_PROVIDER"],
    })
    .safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = issue?.path.join(".") ?? "environment";
    throw new EnvError(`${name}: ${issue?.message ?? "invalid"}`);
  }
  return result.data;
}

export class EnvError extends Error {
  override name = "EnvError";
}

let cached: Env | undefined;
/** The validated environment; parsed on first use so that `next build` does not need a database. */
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}
