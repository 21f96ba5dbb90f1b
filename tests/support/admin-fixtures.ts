// Shared by the admin-*.test.ts files: admins, background workers and the invariant checks I1–I4.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { expect } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import type { FlashCore } from "@/lib/flash/core";
import { ACTIVE_SET, EVENTS_CHANNEL } from "@/lib/flash/keys";
import { holdingStatuses } from "@/lib/admin/dashboard";
import { snapshot, startOrderWorkers, waitUntilServed } from "./flash";

const PASSWORD_HASH = "$2b$10$XzRMQlgrsEVf7F.OGrs6QO3sNda36isdusnICrGqqOtJtCglu46wa";
const uniq = () => randomBytes(5).toString("hex");

export async function createAdmin(): Promise<{ id: string; role: "ADMIN"; email: string }> {
  const tag = uniq();
  const u = await db().user.create({
    data: { email: `it-admin-${tag}@flash.test`, name: `IT admin ${tag}`, passwordHash: PASSWORD_HASH, role: "ADMIN" },
  });
  return { id: u.id, role: "ADMIN", email: u.email };
}

/** Order workers running in this process while the test buys, like the worker processes in production. */
export const startWorkers = (n = 2) => startOrderWorkers(n, { batchSize: 25, claimIdleMs: 2000 });

export { waitUntilServed };

/** Subscribes a core to run-control events, as lib/flash/instance.ts does for each web process. */
export async function listenForEvents(core: FlashCore): Promise<{ events: string[]; close(): void }> {
  const sub = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const events: string[] = [];
  await sub.subscribe(EVENTS_CHANNEL);
  sub.on("message", (_c: string, message: string) => {
    const { activityId, event } = JSON.parse(message) as { activityId: string; event: string };
    events.push(event);
    core.states.invalidate(activityId);
  });
  return { events, close: () => sub.disconnect() };
}

/** Workers of later tests should not keep polling this activity's stream. */
export async function retire(activityId: string): Promise<void> {
  await redis().srem(ACTIVE_SET, activityId);
}

/**
 * I1–I4 once every ticket is answered: `offered` = initial sellable stock + units restocked;
 * `admitted` = ticket ids the buys were given.
 */
export async function expectInvariants(activityId: string, offered: number, admitted: string[]) {
  const s = await snapshot(activityId);
  const holding = new Set<string>(holdingStatuses(s.activity.deductionMode));
  const held = s.orders.filter((o) => holding.has(o.status));
  const units = held.reduce((n, o) => n + o.quantity, 0);

  // I1 no oversell: orders never exceed what was offered; no counter below zero.
  expect(units).toBeLessThanOrEqual(offered);
  expect(s.activity.stock).toBeGreaterThanOrEqual(0);
  expect(Number(s.meta.stock)).toBeGreaterThanOrEqual(0);

  // I2 nothing lost: every admitted ticket is final; exactly the confirmed ones became orders.
  expect(Number(s.meta.seq)).toBe(Number(s.meta.served));
  expect(new Set(admitted).size).toBe(admitted.length);
  expect(s.entries.map((e) => e.ticketId).sort()).toEqual([...admitted].sort());
  expect(s.statuses.every((st) => st === "CONFIRMED" || st === "REJECTED")).toBe(true);
  const confirmed = s.entries.filter((_, i) => s.statuses[i] === "CONFIRMED").map((e) => e.ticketId);
  expect(s.orders.map((o) => o.ticketId).sort()).toEqual(confirmed.sort());

  // I3 no duplicates: one order per ticket, no user above the limit, buyers' units match their orders.
  expect(new Set(s.orders.map((o) => o.ticketId)).size).toBe(s.orders.length);
  const perUser = new Map<string, number>();
  for (const o of held) perUser.set(o.userId, (perUser.get(o.userId) ?? 0) + o.quantity);
  for (const n of perUser.values()) expect(n).toBeLessThanOrEqual(s.activity.perUserLimit);
  for (const b of s.buyers) expect(b.units).toBe(perUser.get(b.userId) ?? 0);

  // I4 conservation, in both stores: offered = left + in queue (none now) + in orders.
  expect(s.activity.stock + units).toBe(offered);
  expect(Number(s.meta.stock) + units).toBe(offered);
  return { units, orders: held.length, stockLeft: Number(s.meta.stock) };
}
