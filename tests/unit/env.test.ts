import { describe, expect, it } from "vitest";
import { defaultWebConcurrency, parseEnv, parseSettings } from "@/lib/env";

const good = {
  DATABASE_URL: "postgresql://u@127.0.0.1:5432/db",
  REDIS_URL: "redis://127.0.0.1:6379",
  NEXTAUTH_SECRET: "x".repeat(32),
  FLASH_TOKEN_SECRET: "y".repeat(32),
};

describe("environment", () => {
  it("accepts a complete environment with defaults", () => {
    expect(parseEnv(good)).toMatchObject({
      WORKER_BATCH_SIZE: 200,
      UPLOAD_DIR: ".data/uploads",
      PORT: 3000,
      HOST: "0.0.0.0",
      WEB_CONCURRENCY: defaultWebConcurrency(),
      WORKER_CLAIM_IDLE_MS: 15_000,
      WORKERS: 2,
      SEED_SHOPPERS: 20,
    });
  });
  it("web processes by default: every core but one (the workers', Redis's and PostgreSQL's), at least one", () => {
    expect([1, 2, 4, 8, 128].map((cores) => defaultWebConcurrency(cores))).toEqual([1, 1, 3, 7, 64]);
    expect(parseSettings({ WEB_CONCURRENCY: "3" }).WEB_CONCURRENCY).toBe(3);
  });
  it("payments: sandbox by default; Stripe with its keys; the over-admission factor as a number", () => {
    expect(parseEnv(good)).toMatchObject({
      PAYMENT_PROVIDER: "sandbox",
      PAYMENT_OVER_ADMISSION: 1.5,
      NONPAYER_THRESHOLD: 3,
    });
    const stripe = { PAYMENT_PROVIDER: "stripe", STRIPE_SECRET_KEY: "sk_test_1", STRIPE_WEBHOOK_SECRET: "whsec_1" };
    expect(parseEnv({ ...good, ...stripe, PAYMENT_OVER_ADMISSION: "2.25" })).toMatchObject({
      PAYMENT_PROVIDER: "stripe",
      PAYMENT_OVER_ADMISSION: 2.25,
    });
  });
  it("reads the process settings without servers or secrets, an empty value as unset", () => {
    expect(parseSettings({ PORT: "8080", WORKER_CLAIM_IDLE_MS: "", EMBEDDED_POSTGRES: "native" })).toMatchObject({
      PORT: 8080,
      WORKER_CLAIM_IDLE_MS: 15_000,
      EMBEDDED_POSTGRES: "native",
    });
  });
  it.each([
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }],
    ["REDIS_URL", { REDIS_URL: "http://x" }],
    ["NEXTAUTH_SECRET", { NEXTAUTH_SECRET: "short" }],
    ["FLASH_TOKEN_SECRET", { FLASH_TOKEN_SECRET: undefined }],
    ["WORKER_BATCH_SIZE", { WORKER_BATCH_SIZE: "0" }],
    ["PORT", { PORT: "abc" }],
    ["PORT", { PORT: "3000.5" }],
    ["WEB_CONCURRENCY", { WEB_CONCURRENCY: "-1" }],
    ["WORKER_CLAIM_IDLE_MS", { WORKER_CLAIM_IDLE_MS: "15s" }],
    ["WORKERS", { WORKERS: "many" }],
    ["SEED_SHOPPERS", { SEED_SHOPPERS: "1e3" }],
    ["EMBEDDED_POSTGRES", { EMBEDDED_POSTGRES: "yes" }],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }],
    ["PAYMENT_PROVIDER", { PAYMENT_PROVIDER: "paypal" }],
    ["PAYMENT_PROVIDER", { PAYMENT_PROVIDER: "stripe" }], // without its keys
    ["STRIPE_SECRET_KEY", { STRIPE_SECRET_KEY: "pk_live_x" }],
    ["SANDBOX_WEBHOOK_SECRET", { SANDBOX_WEBHOOK_SECRET: "short" }],
    ["PAYMENT_OVER_ADMISSION", { PAYMENT_OVER_ADMISSION: "lots" }],
    ["PAYMENT_OVER_ADMISSION", { PAYMENT_OVER_ADMISSION: "0.5" }],
    ["NONPAYER_THRESHOLD", { NONPAYER_THRESHOLD: "0" }],
  ])("names the bad variable %s", (name, patch) => {
    expect(() => parseEnv({ ...good, ...patch })).toThrow(new RegExp(`^${name}: `));
  });
});
