import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { ensureServices } from "@/scripts/services/index";
import { startNginx, type Balancer } from "@/scripts/services/nginx";
import { ensureLocalSecrets } from "@/scripts/lib/secrets";
import { ROOT, bundledArgs, run, stopProcesses, tsxArgs, waitForHttp } from "@/scripts/lib/procs";
import type { BenchOptions } from "@/bench/lib/options";

export interface Stack {
  env: NodeJS.ProcessEnv;
  /** The web server, or nginx's address in front of the instances (--lb nginx). */
  baseUrl: string;
  /** The web server, or each instance behind nginx. */
  webs: ChildProcess[];
  balancer?: Balancer;
  workers: ChildProcess[];
  databaseUrl: string;
  redisUrl: string;
  /** Which PostgreSQL served the run: pglite / native from the services module, or "external" (DATABASE_URL given). */
  database: string;
  /** The database server's process, when the services module runs it on this machine. */
  databasePid?: number;
  stopApps(): Promise<void>;
  stop(): Promise<void>;
}

const log = (line: string) => console.log(`[bench] ${line}`);

/**
 * Provisions like the demo (services, migrations, seed, production build), then starts the hot web
 * server (or, with --lb nginx, several instances and nginx in front) and the order workers with the
 * bench's settings. DATABASE_URL / REDIS_URL, when set, are used; else one Redis or a local cluster (--redis).
 */
export async function startStack(o: BenchOptions, seedShoppers: number): Promise<Stack> {
  const external = Boolean(process.env.DATABASE_URL);
  // Services come with the servers behind them, so the bench can meter the database's CPU too.
  const services = await ensureServices({
    dataDir: o.dataDir,
    postgres: o.postgres,
    redis: o.redis,
    log: (l) => log(`services: ${l}`),
  });
  const secrets = ensureLocalSecrets(o.dataDir);
  const wanted = o.port;
  o.port = await freePort(o.port);
  if (o.port !== wanted) log(`port ${wanted} is taken; using ${o.port}`);
  const baseUrl = `http://127.0.0.1:${o.port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...secrets,
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    NEXTAUTH_URL: `http://localhost:${o.port}`,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    NEXT_DIST_DIR: o.distDir,
    PORT: String(o.port),
    HOST: "127.0.0.1",
    WEB_CONCURRENCY: String(o.web),
    WORKER_BATCH_SIZE: String(o.batchSize),
    // With the gate, the bots (--bots) come from addresses of their own through X-Forwarded-For, the
    // crowd from the load generator's address, which stands for all of it and is exempt.
    ...(o.gate ? { RATE_LIMITS: "1", RATE_LIMIT_TRUSTED_IPS: "127.0.0.1,::1", TRUST_PROXY: "1" } : { RATE_LIMITS: "0" }),
    // --channels: the bench's partner key stands for a whole partner's crowd, as the generator's address
    // stands for the shop's (its per-key limit is counted whatever RATE_LIMITS says).
    RATE_LIMIT_PARTNER_KEY: "9999999/1",
  };
  // The bench process itself reads PostgreSQL and Redis (preheat, invariants) through lib/.
  Object.assign(process.env, {
    DATABASE_URL: env.DATABASE_URL,
    REDIS_URL: env.REDIS_URL,
    NEXTAUTH_SECRET: env.NEXTAUTH_SECRET,
    FLASH_TOKEN_SECRET: env.FLASH_TOKEN_SECRET,
  });

  const children: ChildProcess[] = [];
  const stopApps = () => stopProcesses(children.splice(0));
  const stop = async () => {
    await stopApps();
    if (!o.keepServices) await services.stop();
  };
  try {
    await run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), env);
    const seeded = Date.now();
    await run(...tsxArgs("scripts/seed.ts", ["--shoppers", String(seedShoppers), "--quiet"]), env);
    log(`seeded ${seedShoppers} shoppers in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
    await ensureBuild(o, env);

    const webEnv = { ...env };
    const webArgs: string[] = [];
    if (o.admissionLua) {
      // Fault injection for the bench's own test (README): the server reads this admission script instead.
      webArgs.push("--import", "./bench/lib/fault-inject.mjs");
      webEnv.BENCH_ADMISSION_LUA = o.admissionLua;
      log(`FAULT INJECTION: admission script replaced by ${o.admissionLua}`);
    }
    const profArgs: string[] = [];
    if (o.cpuProf) {
      const dir = path.join(o.dataDir, "profiles");
      mkdirSync(dir, { recursive: true });
      profArgs.push("--cpu-prof", `--cpu-prof-dir=${dir}`);
      webArgs.push(...profArgs);
      log(`CPU profiles of the web and worker processes go to ${dir}`);
    }
    // --lb nginx: `o.web` instances of one process each on ports of their own, nginx on o.port in front;
    // otherwise one server on o.port forking `o.web` processes (WEB_CONCURRENCY).
    const ports = o.lb === "nginx" ? await instancePorts(o.port + 20, o.web) : [o.port];
    // The web and worker processes run as production runs them: the plain JavaScript bundles (scripts/build-server.mjs).
    const [webNode, webNodeArgs] = await bundledArgs("scripts/server.ts", webArgs);
    const [workerNode, workerNodeArgs] = await bundledArgs("scripts/worker.ts", profArgs);
    const webs = ports.map((port, i) =>
      startChild(ports.length > 1 ? `web${i + 1}` : "web", webNode, webNodeArgs, {
        ...webEnv,
        PORT: String(port),
        ...(o.lb === "nginx" ? { WEB_CONCURRENCY: "1" } : {}),
      }),
    );
    children.push(...webs);
    const workers: ChildProcess[] = [];
    for (let i = 1; i <= o.workers; i++) {
      const w = startChild(`worker${i}`, workerNode, workerNodeArgs, {
        ...env,
        WORKER_NAME: `bench-worker-${i}`,
      });
      workers.push(w);
      children.push(w);
    }
    await Promise.all(webs.map((w, i) => waitForHttp(`http://127.0.0.1:${ports[i]}/api/time`, 300_000, w)));
    if (o.lb !== "nginx" && o.web > 1) await waitForWebProcesses(webs[0]!, o.web, 60_000);
    let balancer: Balancer | undefined;
    if (o.lb === "nginx") {
      balancer = await startNginx({ port: o.port, upstreams: ports, dir: path.join(o.dataDir, "nginx") });
      children.push(balancer.process);
      log(`nginx on ${o.port} in front of ${ports.length} web instances on ports ${ports.join(", ")}`);
    }
    return {
      env,
      baseUrl,
      webs,
      balancer,
      workers,
      databaseUrl: services.databaseUrl,
      redisUrl: services.redisUrl,
      database: external ? "external (DATABASE_URL)" : o.postgres,
      databasePid: services.servers.find((x) => x.name !== "redis")?.pid,
      stopApps,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Starts a child whose output lines are prefixed; quiet lines of Next's start-up are kept. */
function startChild(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const forward = (to: NodeJS.WriteStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n"))
      if (line.trim()) to.write(`[${name}] ${line.replace(/^\[[^\]]+\] /, "")}\n`);
  };
  child.stdout?.on("data", forward(process.stdout));
  child.stderr?.on("data", forward(process.stderr));
  return child;
}

/** With node:cluster the primary answers nothing itself: wait until every forked server listens. */
async function waitForWebProcesses(web: ChildProcess, count: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let listening = 0;
  const onData = (c: Buffer) => (listening += (c.toString().match(/listening on/g) ?? []).length);
  web.stdout?.on("data", onData);
  try {
    while (listening < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  } finally {
    web.stdout?.off("data", onData);
  }
}

/**
 * Builds into the bench's own folder unless told to reuse one. `next build` with a folder other
 * than .next adds that folder's type globs to tsconfig.json (and points next-env.d.ts at it); both
 * are shared files, so they are put back exactly as they were.
 */
export async function ensureBuild(o: Pick<BenchOptions, "distDir" | "reuseBuild">, env: NodeJS.ProcessEnv) {
  const buildId = path.join(ROOT, o.distDir, "BUILD_ID");
  if (o.reuseBuild) {
    if (!existsSync(buildId)) throw new Error(`--reuse-build: no build in ${o.distDir} (BUILD_ID missing)`);
    log(`reusing the build in ${o.distDir}`);
    return;
  }
  if (existsSync(buildId) && !sourcesNewerThan(statSync(buildId).mtimeMs)) {
    log(`build in ${o.distDir} is up to date`);
    return;
  }
  const guarded = ["tsconfig.json", "next-env.d.ts"].map((f) => path.join(ROOT, f));
  const before = guarded.map((f) => (existsSync(f) ? readFileSync(f) : null));
  log(`building into ${o.distDir} (next build)`);
  try {
    await run(`${ROOT}/node_modules/.bin/next`, ["build"], env);
  } finally {
    guarded.forEach((f, i) => {
      const was = before[i];
      if (was && existsSync(f) && !readFileSync(f).equals(was)) {
        if (f.endsWith("tsconfig.json") && !onlyDistDirAdded(was.toString(), readFileSync(f, "utf8"), o.distDir)) {
          log(`warning: tsconfig.json changed during the build beyond Next's ${o.distDir} globs; left as it is`);
          return;
        }
        writeFileSync(f, was);
      }
    });
  }
}

/** True if `after` is `before` plus include globs under distDir (what next build writes), nothing else. */
function onlyDistDirAdded(before: string, after: string, distDir: string): boolean {
  try {
    const a = JSON.parse(before) as { include?: string[] };
    const b = JSON.parse(after) as { include?: string[] };
    const extra = (b.include ?? []).filter((g) => !(a.include ?? []).includes(g));
    const rest = { ...b, include: (b.include ?? []).filter((g) => !extra.includes(g)) };
    return (
      extra.every((g) => g.startsWith(distDir.replace(/\/$/, "") + "/")) &&
      JSON.stringify(rest) === JSON.stringify({ ...a, include: a.include ?? [] })
    );
  } catch {
    return false;
  }
}

function sourcesNewerThan(builtMs: number): boolean {
  const newer = (p: string): boolean => {
    const s = statSync(p);
    if (!s.isDirectory()) return s.mtimeMs > builtMs;
    return readdirSync(p).some((name) => name !== "generated" && newer(path.join(p, name)));
  };
  return ["app", "components", "lib", "public", "next.config.ts", "package-lock.json", "proxy.ts"].some((p) =>
    existsSync(path.join(ROOT, p)) ? newer(path.join(ROOT, p)) : false,
  );
}

/** `count` free ports from `from` on, for web instances (each of freePort's pairs gives one). */
async function instancePorts(from: number, count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let next = from; ports.length < count; next = ports[ports.length - 1]! + 2) ports.push(await freePort(next));
  return ports;
}

/** `preferred` if nothing listens on it (and on the port after it, for the edge cache), else a free pair. */
export async function freePort(preferred: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = net.createServer().once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
  for (let port = preferred; port < preferred + 200; port += 2)
    if ((await free(port)) && (await free(port + 1))) return port;
  throw new Error(`no free pair of ports from ${preferred}`);
}
