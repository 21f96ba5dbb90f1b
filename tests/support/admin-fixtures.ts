// Shared by the admin-*.test.ts files: admins, background workers and the invariant checks I1–I4.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { expect } from "vitest";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import type { FlashCore } from "@/lib/flash/core";
import { checkInvariants } from "@/lib/flash/invariants";
import { EVENTS_CHANNEL, decodeChange, holdingStatuses, retireActivity } from "@/lib/flash/store";
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
    const change = decodeChange(message);
    events.push(change?.event ?? "unreadable");
    core.states.invalidate(change?.activityId);
  });
  return { events, close: () => sub.disconnect() };
}

/** Workers of later tests should not keep polling this activity's stream. */
export async function retire(activityId: string): Promise<void> {
  await retireActivity(redis(), activityId);
}

/**
 * I1–I4 once every ticket is answered (lib/flash/invariants.ts, shared with the bench):
 * `offered` = initial sellable stock + units restocked; `admitted` = ticket ids the buys were given.
 */
export async function expectInvariants(activityId: string, offered: number, admitted: string[]) {
  const s = await snapshot(activityId);
  expect(checkInvariants(s, { offered, given: admitted, exactly: true }).filter((c) => !c.ok)).toEqual([]);
  const holding = new Set<string>(holdingStatuses(s.activity.deductionMode));
  const held = s.orders.filter((o) => holding.has(o.status));
  return { units: held.reduce((n, o) => n + o.quantity, 0), orders: held.length, stockLeft: s.state?.stock ?? 0 };
}
