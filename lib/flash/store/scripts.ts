import "server-only";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Result } from "ioredis";
import type { RedisClient } from "@/lib/redis-connect";
import { LUA_HEADER, type admissionKeys, type channelAdmissionKeys, type splitAdmissionKeys } from "@/lib/flash/store/layout";

/*
 * Every Lua script of the project, registered on a client as a command. The sources sit next to the
 * code that owns their rule and are read at start-up with LUA_HEADER (the Redis names) prepended;
 * ioredis runs them with EVALSHA and falls back to EVAL once if the server has not cached them yet.
 */
const SCRIPTS = {
  /** Admission (lib/flash/admission.lua): keys meta, users, idem, stream, ticket, stats, mine, trace, draw, offers. */
  flashAdmit: { file: "lib/flash/admission.lua", keys: 10 },
  /** The same script's split-stock steps (reserve, commit): the keys above and the pending hash. */
  flashAdmitSplit: { file: "lib/flash/admission.lua", keys: 11 },
  /** The same script for a sale split into channels: the keys above and the channel hash. */
  flashAdmitChannel: { file: "lib/flash/admission.lua", keys: 12 },
  /** An admin's rebalance between channels (lib/flash/channel-move.lua): key the channel hash. */
  flashChannelMove: { file: "lib/flash/channel-move.lua", keys: 1 },
  /** One segment of a split stock (lib/flash/segment.lua): key the segment hash. */
  flashSegment: { file: "lib/flash/segment.lua", keys: 1 },
  /** Voids a stale split-stock reservation (lib/flash/unreserve.lua): keys users, idem, pending. */
  flashUnreserve: { file: "lib/flash/unreserve.lua", keys: 3 },
  /** Fences admission before a rebuild's drain (lib/flash/fence.lua): key meta. */
  flashFence: { file: "lib/flash/fence.lua", keys: 1 },
  /** A shopper's own state in a sale (lib/flash/me.lua): keys users, mine, trace. Read-only. */
  flashMe: { file: "lib/flash/me.lua", keys: 3 },
  /** The workers' final answers (lib/orders/finalize.lua): keys meta, users, stats, ticket…. */
  flashFinalize: { file: "lib/orders/finalize.lua" },
  adminRestock: { file: "lib/admin/restock.lua", keys: 2 },
  adminMirror: { file: "lib/admin/mirror.lua", keys: 1 },
  adminResetUnsold: { file: "lib/admin/reset-unsold.lua", keys: 1 },
  /** The order lifecycle's stock moves (lib/orders/stock-mirror.lua): keys meta, lifecycle. */
  orderStockMirror: { file: "lib/orders/stock-mirror.lua", keys: 2 },
  /** Fair entry's draw (lib/flash/draw-load.lua): keys meta, draw. */
  flashDrawLoad: { file: "lib/flash/draw-load.lua", keys: 2 },
  /** The waitlist (lib/flash/waitlist.lua): keys meta, users, waitlist, offers. */
  flashWaitlist: { file: "lib/flash/waitlist.lua", keys: 4 },
} as const;

/** The arguments every form of admission.lua starts with (after its keys). */
type AdmitArgs = [userId: string, quantity: number, idempotencyKey: string, nowMs: number, ticketId: string, epoch: number];

declare module "ioredis" {
  interface RedisCommander<Context> {
    flashAdmit(
      ...keysThenArgs: [...keys: ReturnType<typeof admissionKeys>, ...AdmitArgs],
    ): Result<[string, string, number, number?, number?, string?], Context>;
    flashAdmitSplit(
      ...keysThenArgs: [...keys: ReturnType<typeof splitAdmissionKeys>, ...AdmitArgs,
      step: "R0" | "R" | "C",
      segment?: number,
      refusal?: string],
    ): Result<[string, string, number?, number?, number?, string?], Context>;
    flashAdmitChannel(
      ...keysThenArgs: [...keys: ReturnType<typeof channelAdmissionKeys>, ...AdmitArgs,
      step: "",
      segment: "",
      refusal: "",
      channel: string],
    ): Result<[string, string, number, number?, number?, string?], Context>;
    flashChannelMove(chan: string, from: string, to: string, units: number): Result<[string, number], Context>;
    flashSegment(segment: string, op: "take" | "give", ticketId: string, quantity: number, epoch: number): Result<[string, number], Context>;
    flashUnreserve(users: string, idem: string, pending: string, ticketId: string, olderThanMs: number): Result<number, Context>;
    flashFence(meta: string, seenEpoch: string, reason: string): Result<number, Context>;
    flashMe(users: string, mine: string, trace: string, userId: string, ticketPrefix: string, ...fields: string[]): Result<string[], Context>;
    flashFinalize(numKeys: number, ...keysAndArgs: (string | number)[]): Result<number, Context>;
    adminRestock(
      meta: string,
      restocks: string,
      opId: string,
      units: number,
      quota: number,
    ): Result<[string, number], Context>;
    adminMirror(meta: string, ...fieldsAndValues: (string | number)[]): Result<number, Context>;
    adminResetUnsold(meta: string): Result<number, Context>;
    orderStockMirror(meta: string, lifecycle: string, ...args: (string | number)[]): Result<[number, number], Context>;
    flashDrawLoad(meta: string, draw: string, ...args: (string | number)[]): Result<[string, number], Context>;
    flashWaitlist(meta: string, users: string, waitlist: string, offers: string, ...args: (string | number)[]): Result<(string | number | string[])[], Context>;
  }
}

const source = (file: string) => `${LUA_HEADER}\n${readFileSync(path.join(process.cwd(), file), "utf8")}`;
const defined = new WeakSet<RedisClient>();

/** The client with every script defined on it (once per client). */
export function withScripts<C extends RedisClient>(client: C): C {
  if (defined.has(client)) return client;
  for (const [name, s] of Object.entries(SCRIPTS)) {
    client.defineCommand(name, { lua: source(s.file), ...("keys" in s ? { numberOfKeys: s.keys } : {}) });
  }
  defined.add(client);
  return client;
}
