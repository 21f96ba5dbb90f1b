// Runs a command with DATABASE_URL, REDIS_URL and local secrets set: the given servers when the
// variables are set, else the embedded ones under .data (started if needed, stopped afterwards
// only if this call started them). Used by npm run dev, build and db:*; before `next dev` and
// `next build` it applies the migrations, and before `next dev` it seeds an empty database.
import path from "node:path";
import { spawn } from "node:child_process";
import { ensureServices, formatStartupError } from "@/scripts/services/index";
import { ensureLocalSecrets } from "@/scripts/lib/secrets";
import { ROOT, loadDotEnv, run, tsxArgs } from "@/scripts/lib/procs";

loadDotEnv();

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error("usage: with-env <command> [args…]");
  process.exit(2);
}
const dataDir = path.join(ROOT, ".data");
let services;
try {
  services = await ensureServices({ dataDir });
} catch (e) {
  console.error(formatStartupError(e));
  process.exit(1);
}
const env = {
  ...process.env,
  ...ensureLocalSecrets(dataDir),
  DATABASE_URL: services.databaseUrl,
  REDIS_URL: services.redisUrl,
  NEXT_TELEMETRY_DISABLED: "1",
};
// Like the demo: the app needs its tables (dev and build), and a fresh clone's dev server its demo data.
if (cmd === "next" && (args[0] === "dev" || args[0] === "build")) {
  try {
    await run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), env);
    if (args[0] === "dev") await run(...tsxArgs("scripts/seed.ts", ["--if-empty"]), env);
  } catch (e) {
    console.error(`[with-env] ${e instanceof Error ? e.message : String(e)}`);
    await services.stop();
    process.exit(1);
  }
}
const child = spawn(cmd, args, { cwd: ROOT, env, stdio: "inherit" });
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on("SIGINT", forward);
process.on("SIGTERM", forward);
child.on("exit", (code, signal) => {
  void services.stop().then(() => process.exit(code ?? (signal ? 1 : 0)));
});
