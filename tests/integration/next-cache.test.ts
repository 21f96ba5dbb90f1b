// Next.js's cache in Redis (lib/next-cache.ts), as two web instances see it: each has its own
// connection and handler, as each process would. Runs on one Redis and again on the 3-master cluster,
// where a key outside the prefix's slot would fail with CROSSSLOT (the handler deletes entries with
// one multi-key UNLINK).
import { randomBytes } from "node:crypto";
import calculateSlot from "cluster-key-slot";
import { afterAll, describe, expect, it } from "vitest";
import { nextCachePrefix, sharedCacheHandler } from "@/lib/next-cache";
import { connectRedis, eachServer, parseRedisTarget, type RedisClient } from "@/lib/redis-connect";

const conns: RedisClient[] = [];
afterAll(() => conns.forEach((c) => c.disconnect()));

/** One web instance's handler, on its own connection, for the given build. */
async function instance(buildId: string) {
  const c = connectRedis(process.env.REDIS_URL!, {});
  conns.push(c);
  if (c.status !== "ready") await new Promise((r) => c.once("ready", r));
  return sharedCacheHandler(c, buildId);
}

/** A page entry as Next.js hands it to the handler (App Router, ISR every 300 s), tagged with its path. */
function pageEntry(path: string, html: string) {
  const now = Math.floor(Date.now() / 1000);
  return {
    lastModified: Date.now(),
    lifespan: { lastModifiedAt: now, staleAt: now + 300, expireAt: now + 450, staleAge: 300, expireAge: 450, revalidate: 300 },
    tags: [`_N_T_/layout`, `_N_T_${path}`],
    value: {
      kind: "APP_PAGE",
      html,
      rscData: Buffer.from(`rsc of ${html}`),
      headers: { "x-next-cache-tags": `_N_T_/layout,_N_T_${path}` },
      status: 200,
      postponed: undefined,
      segmentData: new Map([["/_tree", Buffer.from("tree")]]),
    },
  } as unknown as Parameters<Awaited<ReturnType<typeof instance>>["set"]>[1];
}

/** The page a handler serves for `key`, or null on a miss. */
const read = async (h: Awaited<ReturnType<typeof instance>>, key: string) =>
  ((await h.get(key, { implicitTags: [] }))?.value ?? null) as { html: string; rscData: Buffer } | null;

const clustered = parseRedisTarget(process.env.REDIS_URL!).kind === "cluster";

describe(`Next.js's cache shared through Redis (${clustered ? "cluster" : "one server"})`, () => {
  it("every key of one build hashes to one slot; another build has other keys", () => {
    const prefix = nextCachePrefix("build-1");
    const keys = ["/en/activities/a", "/zh-CN", "__sharedTags__", "__sharedTagsTtl__", "__revalidated_tags__"].map((k) => prefix + k);
    expect(new Set(keys.map((k) => calculateSlot(k))).size).toBe(1);
    expect(nextCachePrefix("build-2")).not.toBe(prefix);
    expect(nextCachePrefix(undefined)).toBe("{next-cache:unbuilt}:");
  });

  it("a page A cached is served by B; A's revalidatePath (its implicit tag) drops it for B too", async () => {
    const build = `t-${randomBytes(4).toString("hex")}`;
    const [A, B] = [await instance(build), await instance(build)];
    const [one, two, other] = ["/en/activities/one", "/zh-CN/activities/one", "/en/activities/other"];
    await A.set(one, pageEntry(one, "<h1>old</h1>"));
    await A.set(two, pageEntry(one, "<h1>旧</h1>")); // the other locale's page carries the same path tag here
    await A.set(other, pageEntry(other, "<h1>other</h1>"));

    const seen = await read(B, one);
    expect(seen?.html).toBe("<h1>old</h1>");
    expect(Buffer.isBuffer(seen?.rscData) && seen.rscData.toString()).toBe("rsc of <h1>old</h1>");

    // Two entries carry the tag: one UNLINK of both keys, in one slot even on a cluster.
    await A.revalidateTag(`_N_T_${one}`);
    expect(await read(B, one)).toBeNull();
    expect(await read(B, two)).toBeNull();
    expect((await read(B, other))?.html).toBe("<h1>other</h1>");
  });

  it("an entry written before a path was revalidated is not served, even by an instance that missed the delete", async () => {
    const build = `t-${randomBytes(4).toString("hex")}`;
    const [A, B] = [await instance(build), await instance(build)];
    const path = "/en/activities/late";
    const stale = { ...pageEntry(path, "<h1>stale</h1>"), lastModified: Date.now() - 60_000 };
    await A.revalidateTag(`_N_T_${path}`); // recorded with the time of the revalidation
    await B.set(path, stale); // a render that started before it, finishing after
    expect(await B.get(path, { implicitTags: [`_N_T_${path}`] })).toBeNull();
  });

  it("two builds on one Redis never see each other's pages", async () => {
    const [old, next] = [await instance(`t-${randomBytes(4).toString("hex")}`), await instance(`t-${randomBytes(4).toString("hex")}`)];
    await old.set("/en", pageEntry("/en", "<h1>old build</h1>"));
    expect(await read(next, "/en")).toBeNull();
  });

  it("the keys live where the prefix says: on one server of the cluster, none outside the prefix", async () => {
    const build = `t-${randomBytes(4).toString("hex")}`;
    const A = await instance(build);
    await A.set("/en/x", pageEntry("/en/x", "<h1>x</h1>"));
    const prefix = nextCachePrefix(build);
    const found = (await Promise.all(eachServer(conns[conns.length - 1]!).map((s) => s.keys(`${prefix}*`)))).map((k) => k.length);
    expect(found.filter((n) => n > 0)).toHaveLength(1); // one server holds them all
    expect(found.reduce((a, b) => a + b, 0)).toBe(3); // the entry, the build's tag map and its expiry map
    // The entry expires with its lifespan (ISR 300 s, kept 450 s).
    const ttl = await conns[conns.length - 1]!.ttl(`${prefix}/en/x`);
    expect(ttl).toBeGreaterThan(400);
    expect(ttl).toBeLessThanOrEqual(450);
  });
});
