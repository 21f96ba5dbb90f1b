// `npm run demo`: services (embedded unless DATABASE_URL / REDIS_URL are set), migrations, seed,
// a production build, then the web server and order workers on http://localhost:3000.
//   npm run demo -- --web N   N web instances on PORT+1…PORT+N behind Debian nginx on PORT (REDIS_MODE=cluster: a
//                             local 3-master Redis Cluster instead of one redis-server)
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { ensureServices, formatStartupError } from "@/scripts/services/index";
import { ensureLocalSecrets } from "@/scripts/lib/secrets";
import { readSettings } from "@/scripts/lib/preflight";
import { parseArgs } from "node:util";
import { startNginx, type Balancer } from "@/scripts/services/nginx";
import { ROOT, bundledArgs, loadDotEnv, run, startProcess, stopProcesses, stopRunning, tsxArgs, waitForHttp } from "@/scripts/lib/procs";

loadDotEnv();

const { PORT: port, WORKERS: workers, SEED_SHOPPERS: shoppers, NEXTAUTH_URL } = readSettings("demo");
const dataDir = path.join(ROOT, ".data");
const webCount = Number(parseArgs({ options: { web: { type: "string", default: "1" } } }).values.web);
if (!Number.isInteger(webCount) || webCount < 1 || webCount > 16) {
  console.error(`--web: expected 1-16 web instances`);
  process.exit(2);
}
let balancer: Balancer | undefined;

// Handlers before anything starts: a signal during the services' start, the migrations or the build
// still stops whatever is up (children, then the services) and exits.
const children: ChildProcess[] = [];
let services: Awaited<ReturnType<typeof ensureServices>> | undefined;
let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  console.log("\n[demo] stopping…");
  await balancer?.stop();
  await Promise.all([stopRunning(), stopProcesses(children)]);
  await services?.stop();
  process.exit(code);
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void shutdown(0));

try {
  services = await ensureServices({ dataDir });
} catch (e) {
  console.error(formatStartupError(e));
  process.exit(1);
}
const secrets = ensureLocalSecrets(dataDir);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...secrets,
  DATABASE_URL: services.databaseUrl,
  REDIS_URL: services.redisUrl,
  NEXTAUTH_URL: NEXTAUTH_URL ?? `http://localhost:${port}`,
  NODE_ENV: "production",
  NEXT_TELEMETRY_DISABLED: "1",
  PORT: String(port),
};

try {
  await run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), env);
  await run(...tsxArgs("scripts/seed.ts", ["--shoppers", String(shoppers)]), env);
  if (needsBuild(services.databaseUrl)) {
    await run(`${ROOT}/node_modules/.bin/next`, ["build"], env);
    writeFileSync(buildStamp(), services.databaseUrl);
  } else console.log("[demo] build is up to date");
  // The build can take longer than the first sale's minute: count it from now, before anyone serves it.
  await run(...tsxArgs("scripts/seed.ts", ["--shoppers", "0", "--retime", "--quiet"]), env);

  // One instance serves PORT itself; several serve PORT+1… and nginx balances PORT over them.
  const webPorts = webCount === 1 ? [port] : Array.from({ length: webCount }, (_, i) => port + 1 + i);
  const web = await bundledArgs("scripts/server.ts");
  const worker = await bundledArgs("scripts/worker.ts");
  const webs = webPorts.map((p, i) => startProcess(webCount === 1 ? "web" : `web${i + 1}`, ...web, { ...env, PORT: String(p) }));
  children.push(...webs);
  for (const c of webs) c.on("exit", (code) => !stopping && console.error(`[demo] a process exited (${code})`));
  // A worker that dies comes back a second later under the same name, so it first finishes the batch it held.
  const startWorker = (i: number) => {
    const c = startProcess(`worker${i}`, ...worker, { ...env, WORKER_NAME: `demo-worker-${i}` });
    children.push(c);
    c.on("exit", (code, signal) => {
      if (stopping) return;
      console.error(`[demo] worker${i} exited (${code ?? signal}); restarting it in 1 s`);
      setTimeout(() => !stopping && startWorker(i), 1_000);
    });
  };
  for (let i = 1; i <= workers; i++) startWorker(i);
  await Promise.all(webs.map((w, i) => waitForHttp(`http://127.0.0.1:${webPorts[i]}/api/time`, 120_000, w)));
  if (webCount > 1) balancer = await startNginx({ port, upstreams: webPorts, dir: path.join(dataDir, "nginx") });
  console.log(`
  Flash Sale is running
    Storefront   http://localhost:${port}/${webCount > 1 ? ` (nginx over ${webCount} instances on ports ${webPorts.join(", ")})` : ""}
    Admin        http://localhost:${port}/admin
    Admin login  admin@flash.test / admin-pass-2026
    Shoppers     shopper1@flash.test … shopper${shoppers}@flash.test / shopper-pass-2026
    Database     ${services.databaseUrl.replace(/:[^:@/]*@/, ":***@")}
    Redis        ${services.redisUrl}
  Press Ctrl-C to stop.
`);
} catch (e) {
  console.error(`[demo] ${e instanceof Error ? e.message : String(e)}`);
  await shutdown(1);
}

// The build holds pre-rendered pages of the database it was made against (ISR cache).
function buildStamp(): string {
  return path.join(ROOT, ".next", "demo-database");
}

// Rebuild when any source is newer than the last build, or the build was made for another database.
function needsBuild(databaseUrl: string): boolean {
  const buildId = path.join(ROOT, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return true;
  if (!existsSync(buildStamp()) || readFileSync(buildStamp(), "utf8") !== databaseUrl) return true;
  const built = statSync(buildId).mtimeMs;
  const newer = (p: string): boolean => {
    const s = statSync(p);
    if (!s.isDirectory()) return s.mtimeMs > built;
    return readdirSync(p).some((name) => name !== "generated" && newer(path.join(p, name)));
  };
  return ["app", "components", "lib", "public", "next.config.ts", "package-lock.json", "proxy.ts"].some((p) =>
    existsSync(path.join(ROOT, p)) ? newer(path.join(ROOT, p)) : false,
  );
}
