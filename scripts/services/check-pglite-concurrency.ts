// Concurrency check for the PGlite socket server (and any postgres URL, for comparison):
//   npx tsx scripts/services/check-pglite-concurrency.ts              # pglite-server child in a temp dir
//   npx tsx scripts/services/check-pglite-concurrency.ts --unpatched  # the library's multiplexer as shipped, in-process
//   npx tsx scripts/services/check-pglite-concurrency.ts --url postgresql://...
// Exits 1 if any check fails. Kept because pglite-socket's multiplexer is the weak spot of the setup.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { PGlite, protocol } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import pg from "pg";
import { multiplexSafe } from "./pglite-mux.js";
import { startPglite } from "./pglite.js";

const { values } = parseArgs({
  options: { url: { type: "string" }, unpatched: { type: "boolean" }, patched: { type: "boolean" } },
});

let url = values.url ?? "";
let cleanup = async () => {};
if (!url && (values.unpatched || values.patched)) {
  const db = await PGlite.create("memory://");
  const server = new PGLiteSocketServer({ db: values.patched ? multiplexSafe(db) : db, port: 0, maxConnections: 100 });
  await server.start();
  url = `postgresql://postgres@${server.getServerConn()}/postgres`;
  cleanup = async () => {
    await server.stop();
    await db.close();
  };
} else if (!url) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pglite-check-"));
  const h = await startPglite({ dir, parentPid: process.pid, log: () => {} });
  url = h.url;
  cleanup = async () => {
    await h.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
const { hostname, port } = new URL(url);
console.log(`target: ${values.unpatched ? "unpatched in-process" : values.patched ? "patched in-process" : url}`);

const N = 20;
let failed = 0;
const client = async () => {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => {});
  await c.connect();
  return c;
};
const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, rej) =>
      setTimeout(() => rej(new Error(`${what}: no progress in ${ms} ms (deadlock?)`)), ms),
    ),
  ]);

async function check(name: string, fn: () => Promise<string>) {
  const t0 = Date.now();
  try {
    const detail = await withTimeout(fn(), 60_000, name);
    console.log(`ok    ${name}: ${detail} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed++;
    console.log(`FAIL  ${name}: ${(err as Error).message} (${Date.now() - t0} ms)`);
  }
}

const clients = await Promise.all(Array.from({ length: N }, client));
const admin = clients[0]!;
await admin.query("DROP TABLE IF EXISTS mux_check; CREATE TABLE mux_check (id int PRIMARY KEY, n int NOT NULL)");
await admin.query("INSERT INTO mux_check VALUES (1, 0), (2, 0), (3, 0)");

await check(
  "20 clients x 5 parameterised queries with 300 kB parameters (batches split across TCP reads)",
  async () => {
    const big = "x".repeat(300_000);
    let wrong = 0;
    await Promise.all(
      clients.map(async (c, i) => {
        for (let k = 0; k < 5; k++) {
          const r = await c.query(`SELECT length($1::text) + ${i} AS v`, [big]);
          if (r.rows[0].v !== big.length + i) wrong++;
        }
      }),
    );
    if (wrong) throw new Error(`${wrong}/${N * 5} queries got another client's result`);
    return `${N * 5} correct`;
  },
);

await check("20 clients x 10 transactions BEGIN; SELECT n; (sleep) UPDATE n+1; COMMIT", async () => {
  await admin.query("UPDATE mux_check SET n = 0 WHERE id = 1");
  let errors = 0;
  await Promise.all(
    clients.map(async (c) => {
      for (let k = 0; k < 10; k++) {
        try {
          await c.query("BEGIN");
          const { rows } = await c.query("SELECT n FROM mux_check WHERE id = $1", [1]);
          await new Promise((r) => setTimeout(r, 1)); // give other clients every chance to interleave
          await c.query("UPDATE mux_check SET n = $1 WHERE id = 1", [rows[0].n + 1]);
          await c.query("COMMIT");
        } catch {
          errors++;
          await c.query("ROLLBACK").catch(() => {});
        }
      }
    }),
  );
  const { rows } = await admin.query("SELECT n FROM mux_check WHERE id = 1");
  // On a real server read-then-write loses updates (no FOR UPDATE); the multiplexer serialises whole transactions.
  return `n=${rows[0].n} of ${N * 10} increments, ${errors} errors`;
});

await check("20 clients x 10 transactions UPDATE n = n + 1 (lost-update check)", async () => {
  await admin.query("UPDATE mux_check SET n = 0 WHERE id = 2");
  await Promise.all(
    clients.map(async (c) => {
      for (let k = 0; k < 10; k++) {
        await c.query("BEGIN");
        await c.query("UPDATE mux_check SET n = n + 1 WHERE id = $1", [2]);
        await c.query("COMMIT");
      }
    }),
  );
  const { rows } = await admin.query("SELECT n FROM mux_check WHERE id = 2");
  if (rows[0].n !== N * 10) throw new Error(`n=${rows[0].n}, expected ${N * 10}`);
  return `n=${rows[0].n}`;
});

await check("errors inside transactions do not leak into other clients", async () => {
  await admin.query("UPDATE mux_check SET n = 0 WHERE id = 3");
  let unexpected = 0;
  await Promise.all(
    clients.map(async (c, i) => {
      for (let k = 0; k < 5; k++) {
        await c.query("BEGIN");
        await c.query("UPDATE mux_check SET n = n + 1 WHERE id = 3");
        if (i % 2) {
          await c.query("SELECT 1/0").catch(() => {}); // aborts this client's transaction only
          const r = await c.query("SELECT 1").then(
            () => "ran",
            (e: Error) => e.message,
          );
          if (!r.includes("aborted")) unexpected++;
          await c.query("ROLLBACK");
        } else {
          await c.query("COMMIT");
        }
      }
    }),
  );
  const { rows } = await admin.query("SELECT n FROM mux_check WHERE id = 3");
  if (rows[0].n !== (N / 2) * 5 || unexpected)
    throw new Error(`n=${rows[0].n} (expected ${(N / 2) * 5}), ${unexpected} unexpected`);
  return `n=${rows[0].n}, only committed transactions counted`;
});

await check("a client that disconnects inside a transaction is rolled back and does not block others", async () => {
  const c = await client();
  await c.query("BEGIN");
  await c.query("UPDATE mux_check SET n = -1 WHERE id = 1");
  (c as unknown as { connection: { stream: net.Socket } }).connection.stream.destroy();
  const t0 = Date.now();
  const { rows } = await admin.query("SELECT n FROM mux_check WHERE id = 1");
  if (rows[0].n === -1) throw new Error("uncommitted update visible");
  return `others unblocked after ${Date.now() - t0} ms, update rolled back`;
});

await check(
  "a client that disconnects in the middle of an extended-protocol batch does not poison the backend",
  async () => {
    const sock = net.connect({ host: hostname, port: Number(port) });
    await new Promise((r) => sock.once("connect", r));
    sock.write(protocol.serialize.startup({ user: "postgres", database: "postgres" }));
    await new Promise((r) => setTimeout(r, 200));
    // Parse + Bind of a failing statement, no Sync: the backend now skips messages until a Sync.
    sock.write(
      Buffer.concat([
        protocol.serialize.parse({ text: "SELECT 1/0" }),
        protocol.serialize.bind({}),
        protocol.serialize.execute({}),
      ]),
    );
    await new Promise((r) => setTimeout(r, 200));
    sock.destroy();
    const r = await Promise.all(clients.slice(0, 5).map((c, i) => c.query(`SELECT $1::int + ${i} AS v`, [10])));
    if (r.some((x, i) => x.rows[0].v !== 10 + i)) throw new Error("wrong results after the abandoned batch");
    return "next queries fine";
  },
);

await check("throughput: pg.Pool(10), 2000 x SELECT $1", async () => {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 2000 }, (_, i) => pool.query("SELECT $1::int AS v", [i])));
  const ms = Date.now() - t0;
  await pool.end();
  return `${Math.round(2000 / (ms / 1000))} queries/s`;
});

await check("throughput: 20 clients x 20 transactions (BEGIN; UPDATE; COMMIT)", async () => {
  const t0 = Date.now();
  await Promise.all(
    clients.map(async (c) => {
      for (let k = 0; k < 20; k++) {
        await c.query("BEGIN");
        await c.query("UPDATE mux_check SET n = n + 1 WHERE id = $1", [2]);
        await c.query("COMMIT");
      }
    }),
  );
  const ms = Date.now() - t0;
  return `${Math.round((N * 20) / (ms / 1000))} transactions/s`;
});

await Promise.all(clients.map((c) => c.end().catch(() => {})));
await cleanup();
console.log(failed ? `${failed} check(s) failed` : "all checks passed");
process.exit(failed ? 1 : 0);
