import type { ChaosApps } from "@/bench/chaos/apps";
import type { ChaosServices } from "@/bench/chaos/services";
import { within } from "@/bench/chaos/within";
import { runControl } from "@/lib/admin/controls";
import type { ControlInput } from "@/lib/admin/schemas";

export interface FaultContext {
  services: ChaosServices;
  apps: ChaosApps;
  activityId: string;
  adminId: string;
  /** Units added by a restock, for the conservation check. */
  restocked: number;
  /** Set once the sale was ended or cancelled on purpose. */
  over: boolean;
  cancelled: boolean;
}

export interface Scenario {
  name: string;
  what: string;
  /** Redis comes back without (some of) its data. */
  redisLost?: boolean;
  /** The fault, and the operator's restart of the service it took down; returns a note for the report. */
  inject(c: FaultContext): Promise<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a killed service stays down before the operator starts it again. */
const DOWN_MS = 1000;
/** An admin control touches one sale row and a few keys: on a loaded machine it takes well under a second. */
const CONTROL_MS = 30_000;

type Control = { action: "end" | "cancel" | "pause" | "resume" } | { action: "restock"; units: number };

/** An admin control as the dashboard runs it, bounded: a control that waits on a lock fails the run loudly. */
function adminControl(c: FaultContext, input: Control) {
  return within(`the admin control "${input.action}" on sale ${c.activityId}`, CONTROL_MS, () =>
    runControl({ ...input, activityId: c.activityId } as ControlInput, c.adminId),
  );
}

async function control(c: FaultContext, input: Control): Promise<string> {
  const r = await adminControl(c, input);
  if (!r.ok) throw new Error(`control ${input.action} refused: ${JSON.stringify(r)}`);
  return `${input.action} applied`;
}

/**
 * `fn` run while the sale's queue holds a backlog no worker is writing — what the findings
 * need: every worker is killed (-9) for a second and started again under its own name afterwards.
 * Not SIGSTOP (the first version): a worker stopped inside its batch transaction keeps the sale's row
 * locked (persistBatch's SELECT … FOR UPDATE; on PGlite it holds the one backend outright), every
 * control updates that row, and the SIGCONT came only after the control returned — the control waited
 * for the worker, the suite for the control, and the `cancel` run hung with every process idle.
 * A killed worker's connection closes, so PostgreSQL (and PGlite's server) roll its transaction back.
 */
async function withBacklog(c: FaultContext, fn: () => Promise<string>): Promise<string> {
  await c.apps.killWorkers();
  try {
    await sleep(DOWN_MS);
    return await fn();
  } finally {
    await c.apps.startWorkers();
  }
}

export const SCENARIOS: Scenario[] = [
  {
    name: "worker",
    what: "kill -9 one order worker; restarted under its own name",
    async inject(c) {
      await c.apps.kill(c.apps.workerNames[0]!);
      await sleep(DOWN_MS);
      return `killed ${c.apps.workerNames[0]}`;
    },
  },
  {
    name: "workers",
    what: "kill -9 every order worker; restarted",
    async inject(c) {
      for (const n of c.apps.workerNames) await c.apps.kill(n);
      await sleep(DOWN_MS);
      return `killed ${c.apps.workerNames.join(", ")}`;
    },
  },
  {
    name: "web",
    what: "kill -9 the web process; restarted",
    async inject(c) {
      await c.apps.kill("web");
      await sleep(DOWN_MS);
      return "killed web";
    },
  },
  {
    name: "postgres",
    what: "kill -9 the database server; restarted on its data",
    async inject(c) {
      await c.services.killPg();
      await sleep(2 * DOWN_MS);
      await c.services.restartPg();
      return `killed ${c.services.mode}`;
    },
  },
  {
    name: "redis",
    what: "kill -9 Redis (appendfsync always); restarted on its files (AOF)",
    async inject(c) {
      await c.services.killRedis();
      await sleep(DOWN_MS);
      return await c.services.restartRedis();
    },
  },
  {
    name: "redis-everysec",
    what: "kill -9 Redis; restarted on its files with appendfsync everysec: drained and rebuilt under the crowd",
    // With everysec a killed Redis may have lost its last writes (a write postponed behind a slow
    // fsync): the node cannot prove otherwise, so the sale is drained and rebuilt while the crowd buys.
    // The stream may then lack that tail: the stream-bound checks give way to the promises below.
    redisLost: true,
    async inject(c) {
      await c.services.killRedis();
      await sleep(DOWN_MS);
      return await c.services.restartRedis({ appendfsync: "everysec" });
    },
  },
  {
    name: "redis-empty",
    what: "kill -9 Redis with a backlog not yet in PostgreSQL; restarted without its files",
    redisLost: true,
    async inject(c) {
      // Workers down for a second: admitted tickets wait in Redis alone when it goes.
      return withBacklog(c, async () => {
        await c.services.killRedis();
        await sleep(DOWN_MS);
        return await c.services.restartRedis({ empty: true });
      });
    },
  },
  {
    name: "redis-rewound",
    what: "kill -9 Redis; AOF cut to its size 1 s earlier; restarted",
    redisLost: true,
    async inject(c) {
      await c.services.killRedis();
      // An OS crash loses the last second only on a node that does not fsync before every answer.
      const note = await c.services.restartRedis({ rewindMs: 1000, appendfsync: "everysec" });
      return note;
    },
  },
  {
    name: "end",
    what: "end the sale under load with a backlog (workers down 1 s)",
    async inject(c) {
      c.over = true;
      return withBacklog(c, () => control(c, { action: "end" }));
    },
  },
  {
    name: "cancel",
    what: "cancel the sale under load with a backlog (workers down 1 s); resume refused",
    async inject(c) {
      c.over = true;
      c.cancelled = true;
      const note = await withBacklog(c, () => control(c, { action: "cancel" }));
      const resume = await adminControl(c, { action: "resume" });
      if (resume.ok) throw new Error("resume was accepted on a cancelled sale");
      return `${note}; resume refused (${resume.code})`;
    },
  },
  {
    name: "pause",
    what: "pause the sale under load for 1.5 s, then resume",
    async inject(c) {
      await control(c, { action: "pause" });
      await sleep(1500);
      return `${await control(c, { action: "resume" })} after a pause`;
    },
  },
  {
    name: "restock",
    what: "restock 50 units under load with a backlog (workers down 1 s)",
    async inject(c) {
      const note = await withBacklog(c, () => control(c, { action: "restock", units: 50 }));
      c.restocked += 50;
      return note;
    },
  },
];

/**
 * The part `npm test` runs (on PGlite): a process fault, a Redis restart with its files (nothing may
 * be rebuilt or lost then: the strictest checks apply), both Redis losses, and a control with a backlog.
 */
export const CI_SCENARIOS = ["worker", "redis", "redis-empty", "redis-rewound", "cancel"];
