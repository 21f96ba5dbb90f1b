import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const NAMES = ["NEXTAUTH_SECRET", "FLASH_TOKEN_SECRET"] as const;

/**
 * Secrets for a local run when the environment has none: generated once and kept under .data,
 * so sessions survive a restart of the demo. Never committed (.data is ignored).
 */
export function ensureLocalSecrets(dataDir: string): Record<(typeof NAMES)[number], string> {
  const file = path.join(dataDir, "secrets.json");
  let stored: Partial<Record<string, string>> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  let changed = false;
  for (const name of NAMES) {
    if (!stored[name]) {
      stored[name] = randomBytes(32).toString("base64url");
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  const out = {} as Record<(typeof NAMES)[number], string>;
  for (const name of NAMES) out[name] = process.env[name] || stored[name]!;
  return out;
}
