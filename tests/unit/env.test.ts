import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";

const good = {
  DATABASE_URL: "postgresql://u@127.0.0.1:5432/db",
  REDIS_URL: "redis://127.0.0.1:6379",
  NEXTAUTH_SECRET: "x".repeat(32),
  FLASH_TOKEN_SECRET: "y".repeat(32),
};

describe("environment", () => {
  it("accepts a complete environment with defaults", () => {
    expect(parseEnv(good)).toMatchObject({ WORKER_BATCH_SIZE: 200, UPLOAD_DIR: ".data/uploads" });
  });
  it.each([
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }],
    ["REDIS_URL", { REDIS_URL: "http://x" }],
    ["NEXTAUTH_SECRET", { NEXTAUTH_SECRET: "short" }],
    ["FLASH_TOKEN_SECRET", { FLASH_TOKEN_SECRET: undefined }],
    ["WORKER_BATCH_SIZE", { WORKER_BATCH_SIZE: "0" }],
  ])("names the bad variable %s", (name, patch) => {
    expect(() => parseEnv({ ...good, ...patch })).toThrow(new RegExp(`^${name}: `));
  });
});
