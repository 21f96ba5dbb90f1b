import { describe, expect, it } from "vitest";
import { activityKeys } from "@/lib/flash/store";
import { redis } from "@/lib/redis";

describe("the shared Redis client", () => {
  // A script defined while an auto-pipeline was already open was missing from that pipeline
  // ("pipeline[functionName] is not a function"), seen intermittently under the integration suite.
  it("runs a project script queued in the same tick as a plain command", async () => {
    const r = redis();
    const meta = activityKeys("autopipelinecheck").meta;
    const [plain, scripted] = await Promise.all([r.get(meta), r.adminResetUnsold(meta)]);
    expect(plain).toBeNull();
    expect(typeof scripted).toBe("number");
  });
});
