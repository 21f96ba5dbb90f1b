import pino from "pino";
import { logLevel } from "@/lib/env";

// One structured logger per process: one JSON line per event, no secrets (redacted paths below).
// Child loggers name the component: `log.child({ component: "worker", consumer })`.
export const log = pino({
  level: logLevel(),
  base: { pid: process.pid },
  redact: { paths: ["password", "token", "cookie", "authorization", "*.password", "*.token", "*.cookie", "*.authorization"], censor: "[redacted]" },
});

/** The message of an unknown thrown value, for a log field. */
export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
