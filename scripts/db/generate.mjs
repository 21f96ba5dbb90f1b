// `prisma generate` offline: the CLI wants the native schema engine, which cannot be downloaded here.
// It does not need it to generate the client, so point it at a stub that refuses (exit 1) loudly.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const stub = fileURLToPath(new URL("./schema-engine-stub.sh", import.meta.url));
const r = spawnSync("npx", ["--no-install", "prisma", "generate"], {
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: stub, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" },
});
if (r.status !== 0) {
  process.stdout.write(r.stdout);
  process.exit(r.status ?? 1);
}
console.log("[db] prisma client generated");
