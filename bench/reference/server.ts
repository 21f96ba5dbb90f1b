// The bench's in-run reference (issue 14): what bare node:http + ioredis do on this machine, in the
// same run and under the same load generator as the storefront, so every figure can be given as a
// ratio to it. It runs the project's own admission script (lib/flash/admission.lua, loaded through
// the script registry in lib/flash/store) on a scratch activity that no worker consumes.
//   tsx --import ./scripts/register.mjs bench/reference/server.ts --redis URL --port N --activity ID
// Routes:
//   GET  /hello    a fixed 200 JSON answer: node:http's floor
//   POST /soldout  reads the body, answers a precomputed 410 {"code":"SOLD_OUT"}: the sold-out floor
//   POST /admit    reads and parses {quantity, idempotencyKey}, runs admission for a fresh user: the Lua floor
import "server-only";
import http from "node:http";
import { parseArgs } from "node:util";
import { connectRedis } from "@/lib/redis-connect";
import { admissionKeys, newTicketId, withScripts } from "@/lib/flash/store";
import { REFERENCE_EPOCH } from "@/bench/lib/reference-epoch";

const { values } = parseArgs({
  options: { redis: { type: "string" }, port: { type: "string" }, activity: { type: "string" } },
});
if (!values.redis || !values.port || !values.activity) {
  console.error("usage: reference/server.ts --redis URL --port N --activity ID");
  process.exit(2);
}
const activityId = values.activity;
const redis = withScripts(connectRedis(values.redis, { connectionName: "bench-reference", maxRetriesPerRequest: 2 }));

const JSON_TYPE = { "content-type": "application/json" };
const hello = Buffer.from(JSON.stringify({ hello: "world" }));
const helloHead = { ...JSON_TYPE, "content-length": hello.length };
const soldOut = Buffer.from(JSON.stringify({ code: "SOLD_OUT" }));
const soldOutHead = { ...JSON_TYPE, "content-length": soldOut.length, "cache-control": "private, no-store" };
let users = 0;

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/hello") {
    res.writeHead(200, helloHead);
    return void res.end(hello);
  }
  if (req.method === "POST" && req.url === "/soldout") {
    req.resume();
    req.on("end", () => {
      res.writeHead(410, soldOutHead);
      res.end(soldOut);
    });
    return;
  }
  if (req.method === "POST" && req.url === "/admit") {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => void admit(Buffer.concat(chunks), res));
    return;
  }
  res.writeHead(404, JSON_TYPE);
  res.end('{"code":"NOT_FOUND"}');
});

async function admit(raw: Buffer, res: http.ServerResponse) {
  let reply: { status: number; body: unknown };
  try {
    const body = JSON.parse(raw.toString()) as { quantity?: number; idempotencyKey?: string };
    const ticketId = newTicketId(activityId, REFERENCE_EPOCH);
    // Every request is a new shopper, so every click is admitted (limit 1): the path the admit scenario measures.
    const [kind, a, b] = await redis.flashAdmit(
      ...admissionKeys(activityId, ticketId),
      `ref${++users}`,
      Number(body.quantity ?? 1),
      String(body.idempotencyKey ?? ""),
      Date.now(),
      ticketId,
      REFERENCE_EPOCH,
    );
    reply =
      kind === "NO" ? { status: 409, body: { code: a } } : { status: 202, body: { ticketId: a, sequence: Number(b) } };
  } catch (e) {
    reply = { status: 503, body: { code: "UNAVAILABLE", detail: e instanceof Error ? e.message : String(e) } };
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...JSON_TYPE,
    "content-length": Buffer.byteLength(text),
    "cache-control": "private, no-store",
  });
  res.end(text);
}

server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), "127.0.0.1", () =>
  console.log(
    `[reference] ${process.pid} listening on :${values.port} (admission on the scratch activity ${activityId})`,
  ),
);
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    redis.disconnect();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
