import calculateSlot from "cluster-key-slot";
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

/*
 * What REDIS_URL names: one server (redis://, rediss://) or a Redis Cluster
 * (redis+cluster://[user:password@]host1:port,host2:port — any reachable masters; the client learns
 * the rest of the cluster from them). No server-only guard: the launchers and the bench use it too.
 */

/** A connection to either: every project module takes this, so the same code runs on one server or a cluster. */
export type RedisClient = Redis | Cluster;

export type RedisTarget =
  | { kind: "single"; url: string }
  | { kind: "cluster"; nodes: { host: string; port: number }[]; username?: string; password?: string; tls: boolean };

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\/(.*)$/;
const HOST_PORT = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/;

/** The target of a URL; throws with the reason when a cluster URL is malformed. */
export function parseRedisTarget(url: string): RedisTarget {
  const m = CLUSTER_SCHEME.exec(url);
  if (!m) return { kind: "single", url };
  let rest = m[2]!.replace(/\/.*$/, "");
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const [user, pass] = rest.slice(0, at).split(":", 2);
    username = user ? decodeURIComponent(user) : undefined;
    password = pass !== undefined ? decodeURIComponent(pass) : undefined;
    rest = rest.slice(at + 1);
  }
  const nodes = parseNodeList(rest);
  return { kind: "cluster", nodes, username, password, tls: m[1] === "rediss" };
}

/** "host:port,host:port" (REDIS_CLUSTER_NODES, or the host part of a cluster URL). */
export function parseNodeList(list: string): { host: string; port: number }[] {
  const parts = list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new Error("names no host:port");
  return parts.map((p) => {
    const hp = HOST_PORT.exec(p);
    const port = Number(hp?.[2]);
    if (!hp || port < 1 || port > 65535) throw new Error(`"${p}" is not host:port`);
    return { host: hp[1]!.replace(/^\[|\]$/g, ""), port };
  });
}

/** The cluster URL for seed nodes, keeping the credentials and TLS of `base` (a redis:// URL or nothing). */
export function clusterUrl(nodes: string, base?: string): string {
  const u = base ? new URL(base) : null;
  const auth = u && (u.username || u.password) ? `${u.username}:${u.password}@` : "";
  return `${u?.protocol === "rediss:" ? "rediss" : "redis"}+cluster://${auth}${nodes.replace(/\s+/g, "")}`;
}

/**
 * A client for the URL. `options` apply to every server connection; on a cluster, commands follow
 * their key's slot (MOVED/ASK handled by ioredis), and reads and writes go to masters.
 */
export function connectRedis(
  url: string,
  options: RedisOptions = {},
  cluster: Partial<ClusterOptions> = {},
): RedisClient {
  const t = parseRedisTarget(url);
  if (t.kind === "single") return new Redis(t.url, options);
  const { maxRetriesPerRequest, ...perNode } = options;
  return new Cluster(t.nodes, {
    // Off on a cluster: ioredis 5 routes an auto-pipeline by its first argument, which for `call()`
    // and numKeys-first scripts is no key, so whole batches went to the wrong shard (MOVED; ioredis
    // issues #1890, #2109). Commands still share each node's socket without waiting for replies.
    enableAutoPipelining: false,
    maxRedirections: 16,
    // A promoted replica or resharding moves slots: ioredis refreshes its map on MOVED, and retries.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 200,
    ...cluster,
    redisOptions: {
      ...perNode,
      enableAutoPipelining: false,
      ...(maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest } : {}),
      username: t.username,
      password: t.password,
      ...(t.tls ? { tls: {} } : {}),
    },
  });
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/** The servers a command must reach to touch every key: each master of a cluster, or the one server. */
export function eachServer(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes("master") : [client];
}

/**
 * The server holding `key`, for the few commands whose key ioredis cannot route by itself (XINFO):
 * on a cluster, the master of the key's slot in the client's current slot map.
 */
export function serverFor(client: RedisClient, key: string): Redis {
  if (!isCluster(client)) return client;
  const master = client.slots[calculateSlot(key)]?.[0];
  const node = client.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === master);
  if (!node) throw new Error(`no master known for the slot of ${key} (cluster not ready)`);
  return node;
}
