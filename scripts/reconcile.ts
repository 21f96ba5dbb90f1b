// `npm run reconcile [-- --days N]`: two reconciliations, each repairing what it can and printing the rest.
//  1. Sale state: every open or recently ended sale's Redis state against PostgreSQL (stock, units per
//     user, sequence, queued tickets, generation); a state that cannot be trusted is rebuilt from
//     PostgreSQL, counter drift seen twice (2 s apart here) is repaired the same way (docs/durability.md).
//  2. Payments: the provider's ledger of the last N days (default 1) against the shop's payments.
// Both runs are stored for the admin console. Exits 1 when differences remain unrepaired.
import { parseArgs } from "node:util";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { reconcileSaleStates } from "@/lib/flash/reconcile";
import { paymentProvider } from "@/lib/payments";
import { reconcile } from "@/lib/payments/reconcile";
import { redis } from "@/lib/redis";
import { preflight } from "@/scripts/lib/preflight";

const { values } = parseArgs({ options: { days: { type: "string", default: "1" } } });
const days = Number(values.days);
if (!Number.isFinite(days) || days <= 0) {
  console.error("--days: expected a positive number");
  process.exit(2);
}
await preflight("reconcile");

const ttlSec = env().FLASH_KEYS_TTL_SEC;
let state = await reconcileSaleStates(db(), redis(), { ttlSec });
if (state.drift.some((d) => !d.repaired)) {
  // Counter drift is repaired only when seen twice in a row (a restock in flight is not drift).
  await new Promise((r) => setTimeout(r, 2_000));
  state = await reconcileSaleStates(db(), redis(), { ttlSec });
}
console.log(`[reconcile] sale state: ${state.checked} sales, ${state.drift.length} differences, ${state.repaired} repaired`);
for (const d of state.drift) console.log(`  ${d.kind}  ${d.activityId}  ${d.detail}${d.repaired ? "  (repaired)" : ""}`);

const run = await reconcile(paymentProvider(), { since: new Date(Date.now() - days * 86_400_000) });
console.log(
  `[reconcile] ${paymentProvider().name}: ${run.checked} provider records, ${run.repaired} repaired, ${run.issues.length} to look at`,
);
for (const i of run.issues) console.log(`  ${i.kind}  ${i.ref}  ${i.detail}`);
await db().$disconnect();
redis().disconnect();
process.exit(run.issues.length > 0 || state.drift.some((d) => !d.repaired) ? 1 : 0);
