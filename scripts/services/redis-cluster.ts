// A local Redis Cluster: N masters (and optional replicas) of Debian's redis-server in cluster mode on
// loopback ports, joined by `redis-cli --cluster create`. Reused when an earlier run left it running.
import fs from "node:fs";
import path from "node:path";
import getPort from "get-port";
import { x } from "tinyexec";
import which from "which";
import writeFileAtomic from "write-file-atomic";
import { findLiveRedis, findRedisServer, REDIS_MISSING, redisUrl } from "./redis.js";
import {
  StartupError,
  fulfils,
  isPidAlive,
  readJson,
  serverHandle,
  spawnServer,
  stopPid,
  waitFor,
  withRedis,
  withStartLock,
  type ServerHandle,
  type ServerState,
  type StartOptions,
} from "./util.js";

export interface ClusterShape {
  masters: number;
  /** Replicas per master (each takes over if its master dies: `CLUSTER FAILOVER` or a timeout). */
  replicas: number;
}
export const DEFAULT_CLUSTER: ClusterShape = { masters: 3, replicas: 0 };

/** Milliseconds a master may stay silent before its replica is promoted. */
const NODE_TIMEOUT_MS = 2000;

const nodeDir = (dir: string, i: number) => path.join(dir, `node-${i}`);

/** The cluster's URL from its nodes' ports (the client learns who is master from any of them). */
export const clusterUrlOf = (ports: number[]) => `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`;

/** CLUSTER INFO says ok (every slot served) on the node at `port`; false if it does not answer. */
const isClusterOk = (port: number) =>
  withRedis(redisUrl(port), async (c) => /cluster_state:ok/.test(await c.cluster("INFO")), 1000).catch(() => false);

/**
 * A replica whose link to its master is up (first sync done), or a master whose cluster table lists its
 * `replicas` replicas (learnt by gossip, which can lag the sync on a loaded machine); false if it does not answer.
 */
const isSynced = (port: number, replicas: number) =>
  withRedis(
    redisUrl(port),
    async (c) => {
      const info = await c.info("replication");
      if (!/role:master/.test(info)) return /master_link_status:up/.test(info);
      const id = (await c.call("CLUSTER", "MYID")) as string;
      return ((await c.call("CLUSTER", "REPLICAS", id)) as string[]).length >= replicas;
    },
    1000,
  ).catch(() => false);

async function startNode(bin: string, dir: string, ephemeral: boolean | undefined): Promise<ServerState> {
  fs.mkdirSync(dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await getPort({ host: "127.0.0.1" });
    const busPort = await getPort({ host: "127.0.0.1", exclude: [port] });
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--logfile", ""];
    args.push("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", String(busPort));
    args.push("--cluster-node-timeout", String(NODE_TIMEOUT_MS), "--appendonly", ephemeral ? "no" : "yes");
    // A replica's first full sync starts at once, not after the default 5 s wait for more replicas.
    args.push("--repl-diskless-sync-delay", "0");
    const pid = await spawnServer({
      what: "redis cluster node: redis-server",
      cmd: bin,
      args,
      cwd: dir,
      logFile: path.join(dir, "redis.log"),
      timeoutMs: 60_000,
      spawned: (pid) =>
        writeFileAtomic(path.join(dir, "server.json"), JSON.stringify({ pid, port, startedAt: new Date() })),
      ready: () => fulfils(withRedis(redisUrl(port), (c) => c.ping(), 1000)),
      retryOn: attempt < 3 ? /in use|bind/i : undefined,
    });
    if (pid !== null) return { pid, port };
  }
}

function handleOf(states: ServerState[], dir: string, started: boolean, log: StartOptions["log"]): ServerHandle {
  const handles = states.map((st, i) =>
    serverHandle({ name: "redis", url: redisUrl(st.port), ...st, started }, async () => {
      await stopPid("redis", st.pid, 15_000, log);
      fs.rmSync(path.join(nodeDir(dir, i), "server.json"), { force: true });
    }),
  );
  // One handle for the whole cluster: its pid and port are the first node's, stop() stops them all.
  return {
    ...handles[0]!,
    url: clusterUrlOf(states.map((s) => s.port)),
    stop: async () => void (await Promise.all(handles.map((h) => h.stop()))),
    killNow: () => handles.forEach((h) => h.killNow()),
    onExit: (cb) => handles.forEach((h) => h.onExit(cb)),
  };
}

/** Starts (or reuses) a cluster with its nodes under `dir`/node-N. */
export async function startRedisCluster(o: StartOptions & { shape?: ClusterShape }): Promise<ServerHandle> {
  const shape = o.shape ?? DEFAULT_CLUSTER;
  const bin = findRedisServer();
  const cli = which.sync("redis-cli", { nothrow: true });
  if (!bin || !cli) throw new StartupError(REDIS_MISSING);
  const count = shape.masters * (1 + shape.replicas);
  return withStartLock(o.dir, "redis-cluster", o.log, async () => {
    const live = await Promise.all(
      Array.from({ length: count }, (_, i) => findLiveRedis(nodeDir(o.dir, i)).catch(() => null)),
    );
    if (live.every(Boolean) && (await isClusterOk(live[0]!.port))) {
      o.log(`redis cluster: reusing ${count} nodes on ports ${live.map((s) => s!.port).join(", ")}`);
      return handleOf(live as ServerState[], o.dir, false, o.log);
    }
    // A partial or broken cluster is not repaired: its nodes stop and it starts afresh.
    await stopRedisClusterDir(o.dir, o.log);
    // Everything but the start lock this process holds: deleting that too made the lock's next refresh
    // (due after 5 s, reached when a loaded machine starts the nodes slowly) fail as "compromised".
    for (const entry of fs.readdirSync(o.dir)) {
      if (entry !== ".start.lock") fs.rmSync(path.join(o.dir, entry), { recursive: true, force: true });
    }
    const t0 = Date.now();
    const states = await Promise.all(
      Array.from({ length: count }, (_, i) => startNode(bin, nodeDir(o.dir, i), o.ephemeral)),
    );
    const handle = handleOf(states, o.dir, true, o.log);
    try {
      // redis-cli gives the first `masters` nodes the 16384 slots and the others to them as replicas.
      const nodes = states.map((s) => `127.0.0.1:${s.port}`);
      const create = ["--cluster", "create", ...nodes, "--cluster-replicas", String(shape.replicas), "--cluster-yes"];
      const r = await x(cli, create, { throwOnError: false });
      if (r.exitCode !== 0)
        throw new StartupError(
          `redis cluster: redis-cli --cluster create failed: ${r.stdout.trim().split("\n").pop()}`,
        );
      const allOk = async () => (await Promise.all(states.map((s) => isClusterOk(s.port)))).every(Boolean);
      if (!(await waitFor(allOk, 30_000, 100)))
        throw new StartupError("redis cluster: cluster_state did not become ok within 30 s");
      // A replica is a copy only once its first sync is done: until then a failover would promote an empty node.
      const allSynced = async () =>
        (await Promise.all(states.map((s) => isSynced(s.port, shape.replicas)))).every(Boolean);
      if (shape.replicas > 0 && !(await waitFor(allSynced, 60_000, 100)))
        throw new StartupError("redis cluster: the replicas' first sync (or their masters learning of them) did not finish within 60 s");
    } catch (err) {
      await handle.stop();
      throw err instanceof StartupError ? err : new StartupError(`redis cluster: ${String(err)}`);
    }
    o.log(
      `redis cluster: ${shape.masters} masters, ${shape.replicas} replicas each, up in ${Date.now() - t0} ms (${handle.url})`,
    );
    return handle;
  });
}

/** Stops every node recorded under `dir` (cli down, stale test dirs). Returns whether any ran. */
export async function stopRedisClusterDir(dir: string, log: StartOptions["log"]): Promise<boolean> {
  const nodes = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^node-\d+$/.test(n)) : [];
  let any = false;
  for (const n of nodes) {
    const st = readJson<ServerState>(path.join(dir, n, "server.json"));
    if (st && isPidAlive(st.pid, "redis-server")) {
      any = true;
      await stopPid("redis", st.pid, 15_000, log, ` (${path.join(dir, n)})`);
    }
    fs.rmSync(path.join(dir, n, "server.json"), { force: true });
  }
  return any;
}
