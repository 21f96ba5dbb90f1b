// `npm run db:seed [-- --shoppers N]`: an admin, shoppers, a few products and a sale starting a
// minute from now. Idempotent: running it again changes nothing unless the demo sale has ended,
// in which case that sale is rescheduled (demo data only).
import { parseArgs } from "node:util";
import bcrypt from "bcrypt";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { forgetActivity } from "@/lib/flash/store";
import { sellableUnits } from "@/lib/catalog/stock";
import { preflight } from "@/scripts/lib/preflight";

export const DEMO_ADMIN = { email: "admin@flash.test", password: "admin-pass-2026" };
/** Every seeded shopper N signs in as shopperN@flash.test with this one password. */
export const SHOPPER_PASSWORD = "shopper-pass-2026";
export const shopperEmail = (n: number) => `shopper${n}@flash.test`;

// --retime: a demo sale nobody has bought from yet starts `startIn` from now again (the demo runs this
// once the build is done, so "starts in a minute" counts from when the site is up, not from before the build).
const { values } = parseArgs({
  options: {
    shoppers: { type: "string", default: "5" },
    quiet: { type: "boolean" },
    retime: { type: "boolean" },
    // npm run dev: seed a fresh database, leave one that has any user alone.
    "if-empty": { type: "boolean" },
  },
});
const shoppers = Number(values.shoppers);
if (!Number.isInteger(shoppers) || shoppers < 0 || shoppers > 1_000_000) {
  console.error("--shoppers must be a whole number from 0 to 1000000");
  process.exit(2);
}

await preflight("seed");
const prisma = db();
if (values["if-empty"] && (await prisma.user.count()) > 0) {
  await prisma.$disconnect();
  process.exit(0);
}
const adminHash = await bcrypt.hash(DEMO_ADMIN.password, 10);
await prisma.user.upsert({
  where: { email: DEMO_ADMIN.email },
  update: {},
  create: { email: DEMO_ADMIN.email, name: "Demo Admin", passwordHash: adminHash, role: "ADMIN", emailVerifiedAt: new Date() },
});

// One hash for all seeded shoppers: hashing 100,000 passwords one by one would take minutes.
const shopperHash = await bcrypt.hash(SHOPPER_PASSWORD, 10);
for (let from = 1; from <= shoppers; from += 5000) {
  const to = Math.min(shoppers, from + 4999);
  await prisma.user.createMany({
    data: Array.from({ length: to - from + 1 }, (_, i) => ({
      email: shopperEmail(from + i),
      name: `Shopper ${from + i}`,
      passwordHash: shopperHash,
      // Demo accounts: their (made-up) addresses count as confirmed.
      emailVerifiedAt: new Date(),
    })),
    skipDuplicates: true,
  });
}

const products = [
  { slug: "noise-cancelling-headphones", name: "Noise-cancelling headphones", listPrice: 199900, imageUrl: "/images/headphones.svg",
    description: "Over-ear, 40-hour battery, adaptive noise cancelling." },
  { slug: "trail-running-shoes", name: "Trail running shoes", listPrice: 89900, imageUrl: "/images/sneakers.svg",
    description: "Grippy, light and waterproof." },
  { slug: "single-origin-coffee", name: "Single-origin coffee, 1 kg", listPrice: 25900, imageUrl: "/images/coffee.svg",
    description: "Washed Yirgacheffe, roasted this week." },
];
for (const p of products) await prisma.product.upsert({ where: { slug: p.slug }, update: {}, create: p });
const [headphones, shoes] = await Promise.all(
  ["noise-cancelling-headphones", "trail-running-shoes"].map((slug) => prisma.product.findUniqueOrThrow({ where: { slug } })),
);

const now = Date.now();
const sales = [
  { slug: "headphones-flash-sale", title: "Headphones at 1 yuan", productId: headphones!.id, salePrice: 100,
    totalStock: 100, perUserLimit: 1, startIn: 60_000 },
  { slug: "running-shoes-flash-sale", title: "Running shoes, 80% off", productId: shoes!.id, salePrice: 17900,
    totalStock: 300, perUserLimit: 3, startIn: 10 * 60_000 },
];
for (const s of sales) {
  const existing = await prisma.activity.findUnique({ where: { slug: s.slug } });
  const timing = { startAt: new Date(now + s.startIn), endAt: new Date(now + s.startIn + 3600_000) };
  const stock = sellableUnits(s.totalStock, 0);
  if (!existing) {
    await prisma.activity.create({
      data: { slug: s.slug, title: s.title, productId: s.productId, salePrice: s.salePrice, totalStock: s.totalStock,
        stock, perUserLimit: s.perUserLimit, status: "SCHEDULED", ...timing },
    });
  } else if (
    existing.endAt.getTime() < now ||
    (values.retime && (await prisma.order.count({ where: { activityId: existing.id } })) === 0)
  ) {
    await prisma.$transaction([
      prisma.payment.deleteMany({ where: { order: { activityId: existing.id } } }),
      prisma.order.deleteMany({ where: { activityId: existing.id } }),
      prisma.activityBuyer.deleteMany({ where: { activityId: existing.id } }),
      prisma.activity.update({
        where: { id: existing.id },
        data: { ...timing, stock: sellableUnits(existing.totalStock, existing.safetyStockPct), status: "SCHEDULED", paused: false, soldOutAt: null },
      }),
    ]);
    await forgetActivity(redis(), existing.id);
  }
}

if (!values.quiet) {
  console.log(`[seed] admin ${DEMO_ADMIN.email} / ${DEMO_ADMIN.password}`);
  console.log(`[seed] ${shoppers} shoppers: ${shopperEmail(1)} … / ${SHOPPER_PASSWORD}`);
}
await prisma.$disconnect();
redis().disconnect();
