import "server-only";
import os from "node:os";
import { z } from "zod";
import { gateEnv } from "@/lib/gate/env";
import { clusterUrl, parseNodeList, parseRedisTarget } from "@/lib/redis-connect";

// Every variable the project reads, validated here. A bad value stops start-up with one line naming it.

/** A whole number within bounds; "" and unset take the default (a typo never becomes NaN). */
const int = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .transform((s) => (s === "" ? String(fallback) : s))
    .pipe(z.string().regex(/^\d+$/, "must be a whole number"))
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(fallback);

const databaseUrl = z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL");
const redisUrl = z
  .string()
  .regex(/^rediss?(\+cluster)?:\/\//, "must be a redis:// or redis+cluster:// URL")
  .superRefine((url, ctx) => {
    try {
      parseRedisTarget(url);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: `cluster URL ${e instanceof Error ? e.message : String(e)}` });
    }
  });
const nodeList = z.string().superRefine((list, ctx) => {
  try {
    parseNodeList(list);
  } catch (e) {
    ctx.addIssue({
      code: "custom",
      message: `must be host:port,host:port (${e instanceof Error ? e.message : String(e)})`,
    });
  }
});
const unsetIfEmpty = (v: unknown) => (v === "" ? undefined : v);
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Web processes when WEB_CONCURRENCY is unset: every core but one, which the order workers, Redis and
 * PostgreSQL use beside them (measured: about one core between them while every click is admitted,
 * README "What bounds each figure"); at least one. On a 2-core machine: 1.
 */
export function defaultWebConcurrency(cores = os.availableParallelism()): number {
  return Math.min(64, Math.max(1, cores - 1));
}

/**
 * Order workers `npm run demo` (and the bench) starts when WORKERS is unset: one on a machine of two
 * cores or fewer, two above. On 2 cores one worker persisted 1,290–1,297 orders/s against 1,029–1,088
 * for two (bench admit, --pin, interleaved): two split the stream into half-size batches and wait on
 * each other's row lock. A worker that dies is restarted by the demo and drains its own pending first.
 */
export function defaultWorkers(cores = os.availableParallelism()): number {
  return cores <= 2 ? 1 : 2;
}

/** Process knobs: no secrets, no servers, so a launcher or a server can read them before anything is up. */
const settingsShape = {
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** Web port (`npm start`, `npm run demo`). */
  PORT: int(0, 65535, 3000),
  /** Interface the web server binds; HOST, not HOSTNAME: shells and containers set HOSTNAME to the machine name. */
  HOST: z.string().trim().min(1).default("0.0.0.0"),
  /** Web processes (node:cluster); unset: defaultWebConcurrency(). */
  WEB_CONCURRENCY: int(1, 64, defaultWebConcurrency()),
  /**
   * CPU priority (nice, 0-19) of each web process's pages process (Next.js: pages, sign-in, admin):
   * on a busy core the sale's hot routes go first; 0: the same as the hot routes.
   */
  WEB_PAGES_NICE: int(0, 19, 10),
  /**
   * CPU priority (nice, 0-19) of the password-hashing thread (bcrypt, lib/auth/password.ts): a burst of
   * sign-ins gets only the CPU the sale leaves idle; 0: the same as the rest of its process.
   */
  PASSWORD_HASH_NICE: int(0, 19, 19),
  /** Consumer name of an order worker in the Redis group; default <hostname>-<pid>. */
  WORKER_NAME: z.preprocess(unsetIfEmpty, z.string().regex(/^[\w.-]{1,64}$/, "must be 1-64 letters, digits, . _ -").optional()),
  /** How long a worker's unacknowledged orders wait before another worker takes them over. */
  WORKER_CLAIM_IDLE_MS: int(100, 3_600_000, 15_000),
  /** A stream entry that fails alone this many deliveries (PostgreSQL up) goes to the dead letters. */
  WORKER_DEAD_LETTER_AFTER: int(1, 1000, 5),
  /** Seconds between the workers' Redis-vs-PostgreSQL reconciliation of every sale's state (0: never). */
  STATE_RECONCILE_EVERY_SEC: int(0, 86_400, 30),
  /** Seconds a retired sale's Redis keys (tickets, idempotency map, stream) live on; answers then come from PostgreSQL. */
  FLASH_KEYS_TTL_SEC: int(60, 30 * 86_400, 86_400),
  /** Set: an order worker answers /healthz, /readyz and /metrics on this port (on HOST); unset: no listener. */
  WORKER_HEALTH_PORT: z.preprocess(unsetIfEmpty, z.coerce.number().int("must be a whole number").min(1).max(65535).optional()),
  /** Orders each worker writes per PostgreSQL transaction. */
  WORKER_BATCH_SIZE: int(1, 5000, 200),
  /**
   * A worker that read less than a batch waits this long (ms) once for more before writing it: at a
   * sale's start the stream fills at thousands per second, and without it each worker wrote a few
   * orders per transaction, taking the core from admission (bench: sold out 1.1 s → 0.56 s).
   */
  WORKER_BATCH_LINGER_MS: int(0, 1000, 50),
  /** Order workers `npm run demo` starts; unset: defaultWorkers(). */
  WORKERS: int(0, 32, defaultWorkers()),
  /** Shoppers `npm run demo` seeds. */
  SEED_SHOPPERS: int(0, 1_000_000, 20),
  /** Local PostgreSQL when DATABASE_URL is unset: embedded PGlite, or a native cluster (the installed initdb/pg_ctl). */
  EMBEDDED_POSTGRES: z.preprocess(unsetIfEmpty, z.enum(["pglite", "native"]).optional()),
  /** Level of the structured logger (lib/log.ts). */
  LOG_LEVEL: z.preprocess(
    unsetIfEmpty,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  ),
  /** `prisma:*` or `schema-engine`: the migration engine's own log lines on stderr. */
  DEBUG: z.string().optional(),
  /** Where uploaded product images are stored. */
  UPLOAD_DIR: z.string().default(".data/uploads"),
  /** Public URL of the site (next-auth callbacks); default http://localhost:PORT. */
  NEXTAUTH_URL: z.preprocess(unsetIfEmpty, z.url().optional()),
  /** The shop's language when the browser asks for none we speak (a 秒杀 shop: Chinese first). */
  DEFAULT_LOCALE: z.preprocess(unsetIfEmpty, z.enum(["zh-CN", "en"]).default("zh-CN")),
  /** The shop's IANA time zone: server-rendered times, the admin's forms, lists, dashboard, audit and CSV. */
  SHOP_TIME_ZONE: z.preprocess(
    unsetIfEmpty,
    z.string().refine(isTimeZone, "must be an IANA time zone such as Asia/Shanghai").default("Asia/Shanghai"),
  ),
  /**
   * fsync policy of the private redis-server the launcher starts (not of a REDIS_URL server):
   * `always` fsyncs every write before it answers, `everysec` once a second (an OS crash can lose the last second).
   */
  REDIS_APPENDFSYNC: z.preprocess(unsetIfEmpty, z.enum(["always", "everysec"]).default("always")),
  /** Set: use this server; unset: the launcher starts a local one (npm run dev / demo / test). */
  DATABASE_URL: z.preprocess(unsetIfEmpty, databaseUrl.optional()),
  REDIS_URL: z.preprocess(unsetIfEmpty, redisUrl.optional()),
  /**
   * Seed masters of a Redis Cluster ("host:port,host:port"); REDIS_URL then only lends its credentials
   * and TLS. Same as REDIS_URL=redis+cluster://host:port,host:port.
   */
  REDIS_CLUSTER_NODES: z.preprocess(unsetIfEmpty, nodeList.optional()),
  /** Where the launcher starts Redis when REDIS_URL is unset: one server, or a local 3-master cluster. */
  REDIS_MODE: z.preprocess(unsetIfEmpty, z.enum(["single", "cluster"]).default("single")),
};

/** REDIS_CLUSTER_NODES folded into REDIS_URL, so every reader sees one URL. */
function withClusterNodes<T extends { REDIS_URL?: string; REDIS_CLUSTER_NODES?: string }>(e: T): T {
  if (!e.REDIS_CLUSTER_NODES) return e;
  if (e.REDIS_URL && parseRedisTarget(e.REDIS_URL).kind === "cluster")
    throw new EnvError("REDIS_CLUSTER_NODES: set it or a redis+cluster:// REDIS_URL, not both");
  return { ...e, REDIS_URL: clusterUrl(e.REDIS_CLUSTER_NODES, e.REDIS_URL) };
}

// Order lifecycle and payments (lib/orders, lib/payments). Secrets here never reach the client bundle.
const paymentShape = {
  /** Which provider takes payments: the offline sandbox (default) or Stripe. */
  PAYMENT_PROVIDER: z.preprocess(unsetIfEmpty, z.enum(["sandbox", "stripe"]).default("sandbox")),
  /** Signs the sandbox provider's notifications (HMAC-SHA256). Unset: derived from NEXTAUTH_SECRET. */
  SANDBOX_WEBHOOK_SECRET: z.preprocess(unsetIfEmpty, z.string().min(32, "must be at least 32 characters").optional()),
  /** How the sandbox delivers notifications unless a checkout asks otherwise. */
  SANDBOX_DELIVERY: z.preprocess(unsetIfEmpty, z.enum(["normal", "late", "twice", "never"]).default("normal")),
  /** The delay of a "late" sandbox notification. */
  SANDBOX_LATE_MS: int(0, 600_000, 8_000),
  /** Notifications signed longer ago than this are refused (replay window). */
  PAYMENT_WEBHOOK_TOLERANCE_SEC: int(1, 3600, 300),
  /** Seconds after the shopper came back from the pay page, without a notification, before the shop asks the provider. */
  PAYMENT_QUERY_AFTER_SEC: int(0, 3600, 5),
  /** Base URL providers send shoppers back to and notifications to. Unset: NEXTAUTH_URL. */
  PUBLIC_BASE_URL: z.preprocess(unsetIfEmpty, z.url().optional()),
  STRIPE_SECRET_KEY: z.preprocess(unsetIfEmpty, z.string().regex(/^(sk|rk)_/, "must be a Stripe secret key (sk_…)").optional()),
  STRIPE_WEBHOOK_SECRET: z.preprocess(unsetIfEmpty, z.string().regex(/^whsec_/, "must be a Stripe webhook secret (whsec_…)").optional()),
  /** Stripe API base, e.g. a local Stripe-speaking server for offline tests. Unset: api.stripe.com. */
  STRIPE_API_BASE: z.preprocess(unsetIfEmpty, z.url().optional()),
  /** PAYMENT mode admits this many orders per unit of stock (late payers are refused and refunded). */
  PAYMENT_OVER_ADMISSION: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, "must be a number such as 1.5")
      .transform(Number)
      .pipe(z.number().min(1, "must be at least 1").max(10, "must be at most 10"))
      .default(1.5),
  ),
  /** Fair entry: seconds after the draw during which drawn shoppers' units are held for them (docs/fair-entry.md). */
  DRAW_HOLD_SEC: int(5, 3600, 120),
  /** The waitlist: seconds a shopper has to buy a unit offered to them (docs/fair-entry.md). */
  WAITLIST_OFFER_SEC: int(5, 3600, 120),
  /** Unpaid orders the expiry sweeper closes per transaction. */
  EXPIRY_BATCH_SIZE: int(1, 5000, 500),
  /** A shopper who lets this many orders expire is flagged as a non-payer. */
  NONPAYER_THRESHOLD: int(1, 1000, 3),
  /** Seconds between scheduled reconciliation runs in the workers (0: never). */
  RECONCILE_EVERY_SEC: int(0, 86_400, 300),
};

const schema = z.object({
  ...settingsShape,
  DATABASE_URL: databaseUrl,
  REDIS_URL: z.preprocess(unsetIfEmpty, redisUrl.optional()),
  NEXTAUTH_SECRET: z.string().min(32, "must be at least 32 characters"),
  /** Derives the per-user buy tokens handed out once an activity is live. */
  FLASH_TOKEN_SECRET: z.string().min(32, "must be at least 32 characters"),
  /**
   * Replicas that must hold an admission before its 202 (Redis WAIT on the admitting connection);
   * 0: no WAIT, no extra round trip. When fewer acknowledge within REDIS_WAIT_TIMEOUT_MS the buyer gets
   * 503 UNAVAILABLE and a retry with the same idempotency key waits again for the same ticket.
   */
  REDIS_WAIT_REPLICAS: int(0, 16, 0),
  REDIS_WAIT_TIMEOUT_MS: int(1, 60_000, 200),
  /** Bearer token /metrics requires (Authorization: Bearer …); unset: /metrics answers 404. */
  METRICS_TOKEN: z.preprocess(unsetIfEmpty, z.string().min(16, "must be at least 16 characters").optional()),
  /** The gate: rate limits, human check, hot-server limits, mail (lib/gate/env.ts). */
  ...gateEnv,
  ...paymentShape,
});
const serverSchema = schema
  .refine((e) => e.REDIS_URL || e.REDIS_CLUSTER_NODES, {
    message: "required (or REDIS_CLUSTER_NODES)",
    path: ["REDIS_URL"],
  })
  .refine((e) => e.PAYMENT_PROVIDER !== "stripe" || (e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET), {
    message: "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET",
    path: ["PAYMENT_PROVIDER"],
  });
const settingsSchema = z.object(settingsShape);

export type Env = z.infer<typeof schema> & { REDIS_URL: string };
export type Settings = z.infer<typeof settingsSchema>;
type Source = Record<string, string | undefined>;

function parseWith<T>(s: z.ZodType<T>, source: Source): T {
  const result = s.safeParse(source);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = issue?.path.join(".") || "environment";
  throw new EnvError(`${name}: ${issue?.message ?? "invalid"}`);
}

/** The whole environment of a process that serves (web, worker): servers and secrets required. */
export function parseEnv(source: Source = process.env): Env {
  // Knobs first, so `PORT=abc` is named even where the servers are not configured yet.
  parseWith(settingsSchema, source);
  return withClusterNodes(parseWith(serverSchema, source)) as Env;
}

/** The knobs only (launchers, scripts, the server's cluster primary). */
export function parseSettings(source: Source = process.env): Settings {
  return withClusterNodes(parseWith(settingsSchema, source));
}

export class EnvError extends Error {
  override name = "EnvError";
}

/** The logger's level; a bad LOG_LEVEL is reported by the start-up check, the logger itself must not throw at import. */
export function logLevel(source: Source = process.env): string {
  const r = settingsShape.LOG_LEVEL.safeParse(source.LOG_LEVEL);
  return (r.success && r.data) || (source.NODE_ENV === "test" ? "warn" : "info");
}

let cached: Env | undefined;
/** The validated environment; parsed on first use so that `next build` does not need a database. */
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}
