import "server-only";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Redis, Result } from "ioredis";

// The Lua sources are read from lib/flash at start-up; ioredis runs them with EVALSHA
// and falls back to EVAL once if the server has not cached the script yet.
const source = (name: string) => readFileSync(path.join(process.cwd(), "lib", "flash", name), "utf8");

declare module "ioredis" {
  interface RedisCommander<Context> {
    flashAdmit(
      meta: string, users: string, idem: string, stream: string, ticket: string, stats: string,
      userId: string, quantity: number, idempotencyKey: string, nowMs: number, ticketId: string,
    ): Result<[string, string, number, number?], Context>;
    flashFinalize(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}

const defined = new WeakSet<Redis>();

export function withFlashScripts(client: Redis): Redis {
  if (defined.has(client)) return client;
  client.defineCommand("flashAdmit", { numberOfKeys: 6, lua: source("admission.lua") });
  client.defineCommand("flashFinalize", { lua: source("finalize.lua") });
  defined.add(client);
  return client;
}
