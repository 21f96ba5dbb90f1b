// Medians over several bench result files (each run of each file counts once):
//   tsx bench/summarize.ts bench/results/A.json bench/results/B.json …
import { readFileSync } from "node:fs";
import { headline, printHeadline } from "@/bench/lib/report";
import type { SalePhase } from "@/bench/lib/phases";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: tsx bench/summarize.ts <result.json>…");
  process.exit(2);
}
const runs: SalePhase[][] = [];
for (const f of files) {
  const r = JSON.parse(readFileSync(f, "utf8")) as {
    runs: SalePhase[][];
    database: string;
    settings: Record<string, unknown>;
  };
  console.log(
    `${f}: ${r.runs.length} run(s), database ${r.database}, web ${String(r.settings.web)}, workers ${String(r.settings.workers)}`,
  );
  runs.push(...r.runs);
}
printHeadline(headline(runs));
