// The order workers' write (lib/orders/persist.ts) alone: CPU per order by batch size, the worker's
// (this process: Prisma, the driver) and the database's, against a PostgreSQL of its own.
//
//   npm run bench:persist -- [--postgres native|pglite] [--sizes 1,10,50,200] [--orders 2000]
//
// A batch's fixed cost (the transaction, its round trips) is what makes small batches dear; it is why
// a worker lingers for a fuller batch (WORKER_BATCH_LINGER_MS; docs/architecture.md, "The order
// worker"). Prints figures only.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { treeCpuSeconds } from "@/bench/lib/probes";
import { ROOT, run, tsxArgs } from "@/scripts/lib/procs";
import { ensureServices } from "@/scripts/services/index";

const { values } = parseArgs({
  options: {
    postgres: { type: "string", default: "native" },
    sizes: { type: "string", default: "1,10,50,200" },
    orders: { type: "string", default: "2000" },
  },
});
const mode = values.postgres === "pglite" ? "pglite" : "native";
const sizes = values.sizes!.split(",").map(Number);
const perSize = Number(values.orders);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 5000) || !Number.isInteger(perSize) || perSize < 1) {
  console.error("--sizes: whole numbers 1-5000, comma-separated; --orders: a whole number ≥ 1");
  process.exit(2);
}

delete process.env.DATABASE_URL; // always a database of its own: the bench writes scratch sales
const services = await ensureServices({ dataDir: path.join(ROOT, ".data", "bench-persist", mode), only: ["postgres"], postgres: mode, log: (l) => console.log(`[services] ${l}`) });
try {
  process.env.DATABASE_URL = services.databaseUrl;
  process.env.REDIS_URL ??= "redis://127.0.0.1:1"; // never contacted: lib/env wants one
  process.env.NEXTAUTH_SECRET ??= randomBytes(32).toString("base64url");
  process.env.FLASH_TOKEN_SECRET ??= randomBytes(32).toString("base64url");
  await run(...tsxArgs("scripts/db/migrate.ts", ["deploy"]), process.env);
  const { db } = await import("@/lib/db");
  const { persistBatch } = await import("@/lib/orders/persist");
  const { newTicketId } = await import("@/lib/flash/store/layout");
  const prisma = db();
  const dbPids = services.servers.filter((s) => s.name !== "redis").map((s) => s.pid);

  const tag = randomBytes(4).toString("hex");
  const WARM = 200;
  const total = perSize * sizes.length + WARM;
  await prisma.$executeRawUnsafe(
    `INSERT INTO users (id, email, name, password_hash) SELECT 'pc${tag}' || g, 'pc${tag}-' || g || '@bench.test', 'bench', 'x' FROM generate_series(1, ${total}) g`,
  );
  const product = await prisma.product.create({ data: { slug: `persist-${tag}`, name: "persist bench", listPrice: 1000 } });
  const start = new Date(Date.now() - 1000);
  const sale = await prisma.activity.create({
    data: {
      slug: `persist-${tag}`, title: "persist bench", productId: product.id, salePrice: 990, startAt: start,
      endAt: new Date(start.getTime() + 3600_000), totalStock: total, stock: total, perUserLimit: 1, status: "ENDED",
    },
  });
  const terms = { id: sale.id, salePrice: 990, deductionMode: "ORDER" as const, paymentWindowSec: 900, perUserLimit: 1 };
  let user = 0;
  const nextBatch = (size: number) =>
    Array.from({ length: size }, () => {
      const n = ++user;
      return { entryId: `0-${n}`, ticketId: newTicketId(sale.id, 0), userId: `pc${tag}${n}`, quantity: 1, sequence: n, idempotencyKey: `k${n}`, channel: null };
    });
  // Warm the client and the database's caches first (not counted).
  for (let i = 0; i < WARM / 10; i++) await persistBatch(prisma, terms, nextBatch(10));

  console.log(`\nThe workers' write alone, ${mode} PostgreSQL, ${perSize} orders per batch size (CPU per order written)`);
  for (const size of sizes) {
    const batches = Math.max(1, Math.floor(perSize / size));
    const client0 = process.cpuUsage();
    const db0 = treeCpuSeconds(dbPids);
    const wall0 = performance.now();
    let written = 0;
    for (let b = 0; b < batches; b++) {
      const r = await persistBatch(prisma, terms, nextBatch(size));
      written += r.outcomes.filter((o) => o.status === "CONFIRMED").length;
    }
    const client = process.cpuUsage(client0);
    const dbUs = (treeCpuSeconds(dbPids) - db0) * 1e6;
    const wallUs = (performance.now() - wall0) * 1000;
    if (written !== batches * size) throw new Error(`batch ${size}: ${written} of ${batches * size} orders written`);
    const per = (us: number) => `${Math.round(us / written)}`.padStart(5);
    console.log(`  batch ${String(size).padStart(4)}: worker ${per(client.user + client.system)} µs · database ${per(dbUs)} µs · wall ${per(wallUs)} µs per order (${written} orders)`);
  }
} finally {
  await services.stop();
}
process.exit(0);
