import { describe, expect, it } from "vitest";
import { defaultWebConcurrency, defaultWorkers, parseEnv, parseSettings } from "@/lib/env";
import { parseRedisTarget } from "@/lib/redis-connect";

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
      WORKERS: defaultWorkers(),
      SEED_SHOPPERS: 20,
    });
  });
  it("web processes by default: every core but one (the workers', Redis's and PostgreSQL's), at least one", () => {
    expect([1, 2, 4, 8, 128].map((cores) => defaultWebConcurrency(cores))).toEqual([1, 1, 3, 7, 64]);
    expect(parseSettings({ WEB_CONCURRENCY: "3" }).WEB_CONCURRENCY).toBe(3);
  });
  it("order workers by default: one on two cores or fewer (batches twice the size, no lock waits), two above", () => {
    expect([1, 2, 3, 4, 64].map((cores) => defaultWorkers(cores))).toEqual([1, 1, 2, 2, 2]);
    expect(parseSettings({ WORKERS: "3" }).WORKERS).toBe(3);
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
  it("a Redis Cluster: by URL, or by seed nodes that keep REDIS_URL's credentials", () => {
    const url = "redis+cluster://:pw@10.0.0.1:7000,10.0.0.2:7000";
    expect(parseEnv({ ...good, REDIS_URL: url }).REDIS_URL).toBe(url);
    expect(parseRedisTarget(url)).toEqual({
      kind: "cluster",
      nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "10.0.0.2", port: 7000 }],
      username: undefined,
      password: "pw",
      tls: false,
    });
    const nodes = { REDIS_CLUSTER_NODES: "10.0.0.1:7000, 10.0.0.2:7001", REDIS_URL: "rediss://u:pw@ignored:1" };
    expect(parseEnv({ ...good, ...nodes }).REDIS_URL).toBe("rediss+cluster://u:pw@10.0.0.1:7000,10.0.0.2:7001");
    expect(parseEnv({ ...good, REDIS_URL: undefined, REDIS_CLUSTER_NODES: "h:1" }).REDIS_URL).toBe("redis+cluster://h:1");
    expect(parseRedisTarget("redis://h:1/2")).toEqual({ kind: "single", url: "redis://h:1/2" });
  });
  it.each([
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }],
    ["REDIS_URL", { REDIS_URL: "http://x" }],
    ["REDIS_URL", { REDIS_URL: undefined }],
    ["REDIS_URL", { REDIS_URL: "redis+cluster://a:1,b" }],
    ["REDIS_MODE", { REDIS_MODE: "sentinel" }],
    ["REDIS_CLUSTER_NODES", { REDIS_CLUSTER_NODES: "a:1,b:x" }],
    ["REDIS_CLUSTER_NODES", { REDIS_CLUSTER_NODES: "a:1", REDIS_URL: "redis+cluster://b:2" }],
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
