import { encode } from "next-auth/jwt";
import { afterAll, describe, expect, it, vi } from "vitest";

// The admin actions' session comes from Next.js; here it is the admin we choose.
const h = vi.hoisted(() => ({ user: null as null | { id: string; role: string } }));
vi.mock("@/lib/auth/session", () => ({ currentUser: async () => h.user }));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));
const { proposeChannelsAction, rebalanceAction, saveChannelsAction } = await import("@/app/[locale]/(admin)/admin/activities/channel-actions");
const { createApiKeyAction, revokeApiKeyAction } = await import("@/app/[locale]/(admin)/admin/partners/actions");
const { POST: partnerPost } = await import("@/app/api/partner/activities/[id]/orders/route");
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { flash } from "@/lib/flash/instance";
import { rebuildSaleState } from "@/lib/flash/preheat";
import { checkInvariants } from "@/lib/flash/invariants";
import { readChannelState } from "@/lib/channels";
import { readState } from "@/lib/flash/store";
import { createActivity, createCores, createUsers, drain, snapshot, tokenFor, type TestActivity } from "../support/flash";
import { createAdmin } from "../support/admin-fixtures";

// Channel allocation (docs/channels.md): a sale's stock split into channels, admission from the
// request's channel, rebalances under a crowd, partners with API keys.
const { cores, close } = createCores(4);
afterAll(async () => {
  close();
  await flash().close();
});

const failed = (s: Awaited<ReturnType<typeof snapshot>>, offered: number) => checkInvariants(s, { offered }).filter((c) => !c.ok);
const left = async (id: string) => Object.fromEntries((await readChannelState(redis(), id))!.channels.map((c) => [c.channel, c.left]));
let n = 0;
const buy = (a: TestActivity, user: string, channel: string, quantity = 1) =>
  cores[n++ % cores.length]!.admit(a.id, user, { quantity, idempotencyKey: `ch-${n}-${user}`, token: tokenFor(a, user) }, Date.now(), channel);

describe("channel split (admin console)", () => {
  it("proposes a split that sums to the sellable stock (safety share off), saves it, and the preheat copies it", async () => {
    h.user = await createAdmin();
    // 100 in all, 10 % safety share: 90 sellable.
    const a = await createActivity({ stock: 90, startInMs: 5 * 60_000 });
    await db().activity.update({ where: { id: a.id }, data: { totalStock: 100, safetyStockPct: 10 } });
    const rows = [
      { channel: "web", share: 0, volume: 600, conversion: 20, aov: 9000 },
      { channel: "app", share: 0, volume: 300, conversion: 40, aov: 9000 },
      { channel: "partner-a", share: 0, volume: 100, conversion: 40, aov: 18000 },
    ];
    const p = await proposeChannelsAction({ activityId: a.id, rows: JSON.stringify(rows), fromPast: "0" });
    if (!p.ok) throw new Error(JSON.stringify(p));
    expect(p.sellable).toBe(90);
    expect(p.rows.reduce((s, r) => s + r.share, 0)).toBe(90);
    expect(p.rows.map((r) => r.share)).toEqual([37, 29, 24]); // 0.41, 0.32, 0.27 of 90, largest remainder

    // Shares that do not add up are refused; the proposal is accepted as it is.
    const off = await saveChannelsAction({ activityId: a.id, rows: JSON.stringify(p.rows.map((r, i) => ({ ...r, share: i === 0 ? r.share + 1 : r.share }))), borrowAfterSec: "" });
    expect(off).toMatchObject({ ok: false, code: "BAD_INPUT", fieldErrors: { rows: "sharesSum" } });
    expect(await saveChannelsAction({ activityId: a.id, rows: JSON.stringify(p.rows), borrowAfterSec: "30" })).toEqual({ ok: true });

    const c = await readChannelState(redis(), a.id);
    expect(c?.alloc).toBe(90);
    expect(c?.borrowAfterMs).toBe(30_000);
    expect(Object.fromEntries(c!.channels.map((x) => [x.channel, x.left]))).toEqual({ app: 29, "partner-a": 24, web: 37 });
    expect((await readState(redis(), a.id))?.channels).toBe(true);
    // The past sales' history is there to propose from too (zeros for channels never seen).
    const past = await proposeChannelsAction({ activityId: a.id, rows: JSON.stringify(rows), fromPast: "1" });
    expect(past.ok && past.rows.reduce((s, r) => s + r.share, 0)).toBe(90);
  });

  it("refuses channels on a sale with a pre-queue", async () => {
    const a = await createActivity({ stock: 10, startInMs: 5 * 60_000, prequeueMinutes: 5 });
    const r = await saveChannelsAction({ activityId: a.id, rows: JSON.stringify([{ channel: "web", share: 10, volume: 0, conversion: 0, aov: 0 }]), borrowAfterSec: "" });
    expect(r).toMatchObject({ ok: false, fieldErrors: { rows: "channelsExclusive" } });
  });

  it("refuses channels on a sale with a pre-sale (deposits take units off the stock the shares divide)", async () => {
    const a = await createActivity({ stock: 10, startInMs: 5 * 60_000 });
    await db().activity.update({ where: { id: a.id }, data: { presaleDeposit: 100, presaleUnits: 2, presaleStartsAt: new Date(Date.now() - 60_000), presaleEndsAt: new Date(Date.now() + 60_000) } });
    const r = await saveChannelsAction({ activityId: a.id, rows: JSON.stringify([{ channel: "web", share: 10, volume: 0, conversion: 0, aov: 0 }]), borrowAfterSec: "" });
    expect(r).toMatchObject({ ok: false, fieldErrors: { rows: "channelsExclusive" } });
    expect(await db().saleChannel.count({ where: { activityId: a.id } })).toBe(0);
  });
});

describe("admission from the request's channel", () => {
  it("takes from the channel's own share only: a channel sold out refuses while the others sell, never over the stock", async () => {
    const a = await createActivity({ stock: 10, limit: 1, channels: { web: 6, app: 3, "partner-a": 1 } });
    const users = await createUsers(40);
    const results = await Promise.all(users.map((u, i) => buy(a, u, ["web", "app", "partner-a", "app"][i % 4]!)));
    const ok = results.filter((r) => r.ok).length;
    expect(ok).toBe(10);
    expect(await left(a.id)).toEqual({ app: 0, "partner-a": 0, web: 0 });
    await drain(a.id);
    const s = await snapshot(a.id);
    const byChannel = (c: string) => s.orders.filter((o) => o.channel === c).reduce((x, o) => x + o.quantity, 0);
    expect([byChannel("web"), byChannel("app"), byChannel("partner-a")]).toEqual([6, 3, 1]);
    expect(failed(s, 10)).toEqual([]);
  });

  it("a channel whose share is gone borrows from the one with most left once the borrow time has passed", async () => {
    const a = await createActivity({ stock: 10, limit: 1, channels: { web: 2, app: 8 }, borrowAfterSec: 0 });
    const users = await createUsers(6);
    const results = await Promise.all(users.map((u) => buy(a, u, "web")));
    expect(results.every((r) => r.ok)).toBe(true);
    const c = await readChannelState(redis(), a.id);
    expect(c!.channels.map((x) => [x.channel, x.share, x.left])).toEqual([["app", 4, 4], ["web", 6, 0]]);
    await drain(a.id);
    expect(failed(await snapshot(a.id), 10)).toEqual([]);
  });

  it("keeps I1–I4 under a crowd on 3 channels while admins rebalance between them", async () => {
    const a = await createActivity({ stock: 300, limit: 2, channels: { web: 150, app: 100, "partner-a": 50 } });
    const users = await createUsers(1500);
    const channels = ["web", "app", "partner-a"];
    const crowd = users.map((u, i) => buy(a, u, channels[i % 3]!, (i % 2) + 1));
    // Rebalances in the middle of the crowd, in both directions; each all or nothing.
    const moves = Array.from({ length: 30 }, (_, i) =>
      rebalanceAction({ activityId: a.id, from: channels[i % 3]!, to: channels[(i + 1) % 3]!, units: String(1 + (i % 5)) }),
    );
    const [results, moved] = await Promise.all([Promise.all(crowd), Promise.all(moves)]);
    expect(moved.every((m) => m.ok || (m.code === "BAD_INPUT" && m.fieldErrors?.units === "channelShort"))).toBe(true);
    const units = results.reduce((x, r, i) => x + (r.ok ? (i % 2) + 1 : 0), 0);
    expect(units).toBeLessThanOrEqual(300);
    expect(units).toBeGreaterThan(290); // only units a quantity 2 could not take stay unsold
    await drain(a.id);
    const s = await snapshot(a.id);
    expect(failed(s, 300)).toEqual([]);
    // PostgreSQL's shares followed every rebalance that moved units: they sum to the split still.
    const shares = await db().saleChannel.findMany({ where: { activityId: a.id } });
    expect(shares.reduce((x, r) => x + r.share, 0)).toBe(300);
    expect(Object.fromEntries(shares.map((r) => [r.channel, r.share]))).toEqual(
      Object.fromEntries((await readChannelState(redis(), a.id))!.channels.map((c) => [c.channel, c.share])),
    );
  });

  it("a rebuild from PostgreSQL restores the channel counters (shares less what each channel's orders hold)", async () => {
    const a = await createActivity({ stock: 10, limit: 1, channels: { web: 5, app: 5 } });
    const users = await createUsers(4);
    for (const [i, u] of users.entries()) expect((await buy(a, u, i < 3 ? "web" : "app")).ok).toBe(true);
    await drain(a.id);
    await redis().del(`{act:${a.id}}:chan`);
    expect(await rebuildSaleState(db(), redis(), a.id, { onlyFrom: (await readState(redis(), a.id))!.epoch })).not.toBeNull();
    const c = await readChannelState(redis(), a.id);
    expect(c!.channels.map((x) => [x.channel, x.share, x.left, x.admitted])).toEqual([["app", 5, 4, 1], ["web", 5, 2, 3]]);
    expect(c!.alloc).toBe(6);
    expect(failed(await snapshot(a.id), 10)).toEqual([]);
  });
});

describe("partners with API keys", () => {
  const bearer = (userId: string) => encode({ token: { uid: userId, sub: userId, role: "SHOPPER" }, secret: process.env.NEXTAUTH_SECRET! });
  const post = async (a: TestActivity, userId: string, key: string | null) => {
    const body = JSON.stringify({ quantity: 1, idempotencyKey: `partner-${userId}`, token: tokenFor(a, userId) });
    const req = new Request(`http://shop.test/api/partner/activities/${a.id}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await bearer(userId)}`, ...(key ? { "x-api-key": key } : {}) },
      body,
    });
    const res = await partnerPost(req, { params: Promise.resolve({ id: a.id }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("a partner buys within its channel only; a revoked key is refused with 401", async () => {
    h.user = await createAdmin();
    const made = await createApiKeyAction({ channel: "partner-b", label: "Partner B" });
    if (!made.ok) throw new Error(JSON.stringify(made));
    expect(made.key).toMatch(/^fsk_[A-Za-z0-9_-]{43}$/);
    // At rest: only the SHA-256 and a prefix.
    const row = await db().apiKey.findUniqueOrThrow({ where: { id: made.id } });
    expect(row.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(made.key);

    const a = await createActivity({ stock: 10, limit: 1, channels: { web: 8, "partner-b": 2 } });
    const users = await createUsers(4);
    expect((await post(a, users[0]!, made.key)).status).toBe(202);
    expect((await post(a, users[1]!, made.key)).status).toBe(202);
    // The partner's share is gone: the web's 8 units are not its to sell.
    expect(await post(a, users[2]!, made.key)).toEqual({ status: 410, body: { code: "SOLD_OUT" } });
    expect(await left(a.id)).toEqual({ "partner-b": 0, web: 8 });
    // No key, a made-up key: 401 before anything is read.
    expect(await post(a, users[3]!, null)).toEqual({ status: 401, body: { code: "BAD_API_KEY" } });
    expect((await post(a, users[3]!, `fsk_${"A".repeat(43)}`)).status).toBe(401);

    expect(await revokeApiKeyAction({ id: made.id })).toEqual({ ok: true });
    expect(await post(a, users[3]!, made.key)).toEqual({ status: 401, body: { code: "BAD_API_KEY" } });
    await drain(a.id);
    const s = await snapshot(a.id);
    expect(s.orders.map((o) => o.channel)).toEqual(["partner-b", "partner-b"]);
    expect(failed(s, 10)).toEqual([]);
  });
});
