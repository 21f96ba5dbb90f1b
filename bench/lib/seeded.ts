import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "@/scripts/lib/procs";

// scripts/seed.ts runs when imported, so its constants are read from its source: one place to change them.
const source = readFileSync(path.join(ROOT, "scripts", "seed.ts"), "utf8");
const password = /export const SHOPPER_PASSWORD = "([^"]+)"/.exec(source)?.[1];
const email = /export const shopperEmail = \(n: number\) => `([^`]*)\$\{n\}([^`]*)`/.exec(source);
if (!password || !email) throw new Error("bench: could not read SHOPPER_PASSWORD / shopperEmail from scripts/seed.ts");

/** The one password every seeded shopper signs in with. */
export const SHOPPER_PASSWORD_FOR_BENCH: string = password;
export const shopperEmail = (n: number) => `${email[1]}${n}${email[2]}`;
