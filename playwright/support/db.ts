import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@/lib/generated/prisma/client";

// Tests arrange data directly in the test database (never through lib/, which is server-only code).
let client: PrismaClient | undefined;
export function testDb(): PrismaClient {
  client ??= new PrismaClient({ adapter: new PrismaPg({ connectionString: requireLocalDatabase(), max: 3 }) });
  return client;
}

/** Refuses to run against anything but a database on this machine. */
export function requireLocalDatabase(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: run the e2e suite through npm test");
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) {
    throw new Error(`refusing to run e2e tests against a non-local database (${host})`);
  }
  return url;
}

let seq = 0;
/** Creates a sale of a seeded product that starts `startInMs` from now (the workers preheat it). */
export async function createActivity(opts: {
  startInMs: number;
  stock?: number;
  perUserLimit?: number;
  title?: string;
  durationMs?: number;
  humanCheck?: "OFF" | "REQUIRED";
  captchaDifficulty?: number;
  deductionMode?: "ORDER" | "RESERVE" | "PAYMENT";
  paymentWindowSec?: number;
  /** Fair entry: a pre-queue of this many minutes before the start. */
  prequeueMinutes?: number;
  /** Pre-sale (docs/presale.md): deposit in fen, its window relative to now, units, balance window. */
  presale?: { deposit: number; opensInMs: number; closesInMs: number; units: number; balanceWindowSec: number };
}) {
  const db = testDb();
  const product = await db.product.findFirstOrThrow({ where: { archivedAt: null }, orderBy: { createdAt: "asc" } });
  const slug = `e2e-${Date.now().toString(36)}-${process.pid}-${++seq}`;
  const start = Date.now() + opts.startInMs;
  const stock = opts.stock ?? 5;
  return db.activity.create({
    data: {
      slug,
      title: opts.title ?? `E2E sale ${slug}`,
      productId: product.id,
      salePrice: 990,
      totalStock: stock,
      stock,
      perUserLimit: opts.perUserLimit ?? 1,
      deductionMode: opts.deductionMode ?? "ORDER",
      paymentWindowSec: opts.paymentWindowSec ?? 600,
      status: "SCHEDULED",
      startAt: new Date(start),
      endAt: new Date(start + (opts.durationMs ?? 3600_000)),
      humanCheck: opts.humanCheck ?? "OFF",
      captchaDifficulty: opts.captchaDifficulty ?? 5000,
      prequeueMinutes: opts.prequeueMinutes ?? 0,
      ...(opts.presale
        ? {
            presaleDeposit: opts.presale.deposit,
            presaleStartsAt: new Date(Date.now() + opts.presale.opensInMs),
            presaleEndsAt: new Date(Date.now() + opts.presale.closesInMs),
            presaleUnits: opts.presale.units,
            balanceWindowSec: opts.presale.balanceWindowSec,
          }
        : {}),
    },
  });
}
