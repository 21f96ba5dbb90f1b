import "server-only";
import { z } from "zod";
import { gateEnv } from "@/lib/gate/env";

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
  ...gateEnv,
});

export type Env = z.infer<typeof schema>;

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = schema.safeParse(source);
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
