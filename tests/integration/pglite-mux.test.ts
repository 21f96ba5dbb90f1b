// The PGlite socket multiplexer (scripts/services/pglite-mux.ts) under concurrent clients: the
// checks that pglite-socket 0.2.17 as shipped fails (docs/pglite-socket-mux.md). Runs its own
// in-memory PGlite, so it is independent of which PostgreSQL the rest of the suite uses.
import net from "node:net";
import { PGlite, protocol } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { multiplexSafe } from "@/scripts/services/pglite-mux";

const N = 20;
let db: PGlite;
let server: PGLiteSocketServer;
let url: string;
let clients: pg.Client[];

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => {}); // a test that drops a socket on purpose; queries report their own errors
  await c.connect();
  return c;
}

beforeAll(async () => {
  db = await PGlite.create("memory://");
  server = new PGLiteSocketServer({ db: multiplexSafe(db, () => {}), host: "127.0.0.1", port: 0, maxConnections: 100 });
  await server.start();
  url = `postgresql://postgres@${server.getServerConn()}/postgres`;
  clients = await Promise.all(Array.from({ length: N }, client));
  await clients[0]!.query("CREATE TABLE mux_check (id int PRIMARY KEY, n int NOT NULL)");
  await clients[0]!.query("INSERT INTO mux_check VALUES (1, 0), (2, 0), (3, 0)");
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await server.stop();
  await db.close();
});

const count = async (id: number) => (await clients[0]!.query("SELECT n FROM mux_check WHERE id = $1", [id])).rows[0].n as number;

describe("PGlite behind the socket multiplexer, 20 concurrent clients", () => {
  it("parameterised queries whose batches span several TCP reads get their own results", async () => {
    const big = "x".repeat(300_000);
    const results = await Promise.all(
      clients.flatMap((c, i) => Array.from({ length: 2 }, () => c.query(`SELECT length($1::text) + ${i} AS v`, [big]).then((r) => r.rows[0].v - i))),
    );
    expect(results).toEqual(Array(N * 2).fill(big.length));
  });

  it("transactions are not interleaved: no lost update", async () => {
    await Promise.all(
      clients.map(async (c) => {
        for (let k = 0; k < 5; k++) {
          await c.query("BEGIN");
          await c.query("UPDATE mux_check SET n = n + 1 WHERE id = $1", [2]);
          await c.query("COMMIT");
        }
      }),
    );
    expect(await count(2)).toBe(N * 5);
  });

  it("an error inside one client's transaction aborts that transaction only", async () => {
    const afterError = await Promise.all(
      clients.map(async (c, i) => {
        await c.query("BEGIN");
        await c.query("UPDATE mux_check SET n = n + 1 WHERE id = 3");
        if (i % 2 === 0) return c.query("COMMIT").then(() => "committed");
        await c.query("SELECT 1/0").catch(() => {});
        const next = await c.query("SELECT 1").then(() => "ran", (e: Error) => e.message);
        await c.query("ROLLBACK");
        return next;
      }),
    );
    expect(afterError.filter((r) => r !== "committed").every((r) => r.includes("aborted"))).toBe(true);
    expect(await count(3)).toBe(N / 2);
  });

  it("a client that disconnects inside a transaction is rolled back and does not block the others", async () => {
    const c = await client();
    await c.query("BEGIN");
    await c.query("UPDATE mux_check SET n = -1 WHERE id = 1");
    (c as unknown as { connection: { stream: net.Socket } }).connection.stream.destroy();
    expect(await count(1)).toBe(0);
  });

  it("a client that disconnects in the middle of an extended-protocol batch does not poison the backend", async () => {
    const { hostname, port } = new URL(url);
    const sock = net.connect({ host: hostname, port: Number(port) });
    await new Promise((r) => sock.once("connect", r));
    let received = Buffer.alloc(0);
    const answered = (done: (all: Buffer) => boolean) =>
      new Promise<void>((resolve) => sock.on("data", (d: Buffer) => done((received = Buffer.concat([received, d]))) && resolve()));
    sock.write(protocol.serialize.startup({ user: "postgres", database: "postgres" }));
    await answered((all) => all.at(-6) === 0x5a); // ends with ReadyForQuery ('Z', length 5, status): the session is up
    // Parse + Bind + Execute of a failing statement, no Sync: the backend now skips messages until a Sync.
    const before = received.length;
    const failed = answered((all) => all.length > before); // the ErrorResponse: the batch reached the backend
    sock.write(Buffer.concat([protocol.serialize.parse({ text: "SELECT 1/0" }), protocol.serialize.bind({}), protocol.serialize.execute({})]));
    await failed;
    sock.destroy();
    const r = await Promise.all(clients.slice(0, 5).map((c, i) => c.query(`SELECT $1::int + ${i} AS v`, [10])));
    expect(r.map((x) => x.rows[0].v)).toEqual([10, 11, 12, 13, 14]);
  });
});
