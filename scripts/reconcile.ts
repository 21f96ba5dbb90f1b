// `npm run reconcile [-- --days N]`: compares the payment provider's ledger of the last N days (default 1)
// with the shop's payments, repairs what a missed notification left behind, and prints what it could
// not repair (also stored for the admin console). Exits 1 when differences remain.
import { parseArgs } from "node:util";
import { db } from "@/lib/db";
import { paymentProvider } from "@/lib/payments";
import { reconcile } from "@/lib/payments/reconcile";
import { preflight } from "@/scripts/lib/preflight";

const { values } = parseArgs({ options: { days: { type: "string", default: "1" } } });
const days = Number(values.days);
if (!Number.isFinite(days) || days <= 0) {
  console.error("--days: expected a positive number");
  process.exit(2);
}
await preflight("reconcile");
const run = await reconcile(paymentProvider(), { since: new Date(Date.now() - days * 86_400_000) });
console.log(
  `[reconcile] ${paymentProvider().name}: ${run.checked} provider records, ${run.repaired} repaired, ${run.issues.length} to look at`,
);
for (const i of run.issues) console.log(`  ${i.kind}  ${i.ref}  ${i.detail}`);
await db().$disconnect();
process.exit(run.issues.length > 0 ? 1 : 0);
