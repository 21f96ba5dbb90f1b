// `npm run verify-draw -- <sale id> [--base URL]`: checks a sale's fair-entry draw from what the shop
// publishes (GET /api/activities/{id}/draw), trusting nothing else: the revealed seed must hash to the
// commitment published before the start, and every pseudonymous entry's position must be the one the
// seed and the entry list give (docs/fair-entry.md). Exits 0 when it checks out, 1 when not, 2 on bad use.
import { parseArgs } from "node:util";
import { verifyDraw, type PublishedDraw } from "@/lib/flash/draw-proof";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { base: { type: "string", default: process.env.PUBLIC_BASE_URL || process.env.NEXTAUTH_URL || "http://localhost:3000" } },
});
const sale = positionals[0];
if (!sale || !/^[a-z0-9]{8,40}$/.test(sale)) {
  console.error("usage: npm run verify-draw -- <sale id> [--base http://shop.example]");
  process.exit(2);
}
const url = new URL(`/api/activities/${sale}/draw`, values.base).toString();
const res = await fetch(url).catch((e: unknown) => {
  console.error(`${url}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
if (res.status !== 200) {
  console.error(`${url}: HTTP ${res.status} ${await res.text()}`);
  process.exit(2);
}
const draw = (await res.json()) as PublishedDraw;
console.log(`sale        ${draw.activityId}`);
console.log(`commitment  ${draw.commitment}`);
console.log(`seed        ${draw.seed ?? "(not revealed yet: the draw is made at the start)"}`);
console.log(`entries     ${draw.entryCount}`);
const { problems, mismatched } = await verifyDraw(draw);
if (problems.includes("NOT_DRAWN")) {
  console.log("not drawn yet: nothing to verify");
  process.exit(1);
}
console.log(`${problems.includes("COMMITMENT") ? "FAIL" : "ok  "}  SHA-256(seed) equals the commitment`);
console.log(`${problems.includes("LIST_DIGEST") ? "FAIL" : "ok  "}  the list digest is the SHA-256 of the published entries`);
console.log(`${problems.includes("POSITIONS") ? "FAIL" : "ok  "}  every position recomputes (${draw.entries.length - mismatched.length}/${draw.entryCount})`);
for (const id of mismatched.slice(0, 20)) console.log(`      mismatch: ${id}`);
process.exit(problems.length ? 1 : 0);
