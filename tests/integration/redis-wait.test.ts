import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { FlashCore } from "@/lib/flash/core";
import { startRedis } from "@/scripts/services/redis";
import { waitFor } from "@/scripts/services/util";
import { TOKEN_SECRET, createActivity, createUsers, tokenFor } from "../support/flash";

// The opt-in durability mode REDIS_WAIT_REPLICAS: a 202 only once a replica holds the admission.
const conns: Redis[] = [];
const connect = () => {
  const c = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
  conns.push(c);
  return c;
};
afterAll(() => conns.forEach((c) => c.disconnect()));

const waitCalls = async (r: Redis) => Number(/cmdstat_wait:calls=(\d+)/.exec(await r.info("commandstats"))?.[1] ?? 0);

describe("admission with REDIS_WAIT_REPLICAS", () => {
  it("off (0): admission sends no WAIT", async () => {
    const r = connect();
    const core = new FlashCore(r, TOKEN_SECRET, { replicas: { count: 0, timeoutMs: 100 } });
    const a = await createActivity({ stock: 5 });
    const [u] = await createUsers(1);
    const before = await waitCalls(r);
    const res = await core.admit(a.id, u!, { quantity: 1, idempotencyKey: "off-1", token: tokenFor(a, u!) });
    expect(res.ok).toBe(true);
    expect(await waitCalls(r)).toBe(before);
  });

  it("no replica acknowledges in time: 503 UNAVAILABLE, and a retry with the same key gets the same ticket", async () => {
    const core = new FlashCore(connect(), TOKEN_SECRET, { replicas: { count: 1, timeoutMs: 50 } });
    const a = await createActivity({ stock: 5 });
    const [u] = await createUsers(1);
    const input = { quantity: 1, idempotencyKey: "lonely-1", token: tokenFor(a, u!) };
    expect(await core.admit(a.id, u!, input)).toEqual({ ok: false, code: "UNAVAILABLE" });
    // The primary holds the admission; the retry maps to it (never a second unit).
    const plain = new FlashCore(connect(), TOKEN_SECRET);
    const again = await plain.admit(a.id, u!, input);
    expect(again).toMatchObject({ ok: true, duplicate: true });
  });

  it("with a replica on loopback: admitted once the replica acknowledged", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "replica-"));
    const replica = await startRedis({ dir, ephemeral: true, log: () => {} });
    const rc = new Redis(replica.url);
    try {
      const primary = new URL(process.env.REDIS_URL!);
      await rc.replicaof(primary.hostname, primary.port);
      expect(await waitFor(async () => /master_link_status:up/.test(await rc.info("replication")), 30_000, 100)).toBe(true);
      const core = new FlashCore(connect(), TOKEN_SECRET, { replicas: { count: 1, timeoutMs: 2000 } });
      const a = await createActivity({ stock: 5 });
      const users = await createUsers(3);
      const res = await Promise.all(
        users.map((u, i) => core.admit(a.id, u, { quantity: 1, idempotencyKey: `rep-${i}`, token: tokenFor(a, u) })),
      );
      expect(res.every((x) => x.ok)).toBe(true);
    } finally {
      await rc.replicaof("NO", "ONE").catch(() => {});
      rc.disconnect();
      await replica.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
