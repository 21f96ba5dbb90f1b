// Bundles the long-running entries (scripts/server.ts, scripts/worker.ts) into plain JavaScript in
// .next-server/, so production processes run on node alone: no TypeScript loader in the process.
// Why: tsx's loader hooks answer every import() on a thread of their own, and Next.js import()s its
// cache handler on every request it serves (≈ 0.4 ms of the web process's main thread each, and
// bursts of them stalled the sale: bench bots). Packages stay in node_modules (external).
//   node scripts/build-server.mjs [--quiet]  build both (≈ 1 s); --quiet: no line unless it fails
import { build } from "esbuild";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const SERVER_DIST = path.join(ROOT, ".next-server");
const ENTRIES = ["scripts/server.ts", "scripts/worker.ts"];

// `server-only` is a guard only Next.js's bundler resolves; in these server processes it is empty.
const serverOnly = {
  name: "server-only",
  setup(b) {
    b.onResolve({ filter: /^server-only$/ }, () => ({ path: "server-only", namespace: "empty" }));
    b.onLoad({ filter: /.*/, namespace: "empty" }, () => ({ contents: "" }));
  },
};

async function buildServer() {
  await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES.map((e) => path.join(ROOT, e)),
    outdir: SERVER_DIST,
    outExtension: { ".js": ".mjs" },
    entryNames: "[name]",
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
    plugins: [serverOnly],
  });
}

const t0 = Date.now();
await buildServer();
if (!process.argv.includes("--quiet")) console.log(`[build-server] ${ENTRIES.join(", ")} -> ${path.relative(ROOT, SERVER_DIST)}/ (${Date.now() - t0} ms)`);
