import "server-only";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Redis, Result } from "ioredis";

// Lua of the run controls, read from lib/admin at start-up (like lib/flash/scripts.ts).
const source = (name: string) => readFileSync(path.join(process.cwd(), "lib", "admin", name), "utf8");

declare module "ioredis" {
  interface RedisCommander<Context> {
    adminRestock(
      meta: string,
      restocks: string,
      opId: string,
      units: number,
      quota: number,
    ): Result<[string, number], Context>;
    adminMirror(meta: string, ...fieldsAndValues: (string | number)[]): Result<number, Context>;
    adminResetUnsold(meta: string): Result<number, Context>;
  }
}

const defined = new WeakSet<Redis>();

export function withAdminScripts(client: Redis): Redis {
  if (defined.has(client)) return client;
  client.defineCommand("adminRestock", { numberOfKeys: 2, lua: source("restock.lua") });
  client.defineCommand("adminMirror", { numberOfKeys: 1, lua: source("mirror.lua") });
  client.defineCommand("adminResetUnsold", { numberOfKeys: 1, lua: source("reset-unsold.lua") });
  defined.add(client);
  return client;
}

/** Restock operations applied to an activity in Redis (see restock.lua); same hash tag as its other keys. */
export const restocksKey = (activityId: string) => `{act:${activityId}}:restocks`;
