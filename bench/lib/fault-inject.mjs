// Fault injection for the bench's self-test only (`npm run bench -- --admission-lua FILE`):
// loaded with --import into the web server, it makes lib/flash/store/scripts.ts read FILE instead of
// lib/flash/admission.lua, so a deliberately broken admission can be run without touching the repo.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const replacement = process.env.BENCH_ADMISSION_LUA;
if (replacement) {
  const readFileSync = fs.readFileSync;
  fs.readFileSync = function (file, ...rest) {
    if (typeof file === "string" && file.endsWith("/lib/flash/admission.lua"))
      return readFileSync.call(this, replacement, ...rest);
    return readFileSync.call(this, file, ...rest);
  };
  syncBuiltinESMExports();
  console.error(`[fault-inject] admission.lua → ${replacement}`);
}
