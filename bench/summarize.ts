// Medians over several bench result files (each run of each file counts once):
//   tsx bench/summarize.ts bench/results/A.json bench/results/B.json …
// Side by side instead (one column per file, e.g. one Redis vs a cluster with split stock), as a
// Markdown table for the README:
//   tsx bench/summarize.ts --side-by-side bench/results/single.json bench/results/cluster.json
import { readFileSync } from "node:fs";
import { headline, printHeadline } from "@/bench/lib/report";
import { webLayout } from "@/bench/lib/table";
import type { SalePhase } from "@/bench/lib/phases";

const args = process.argv.slice(2);
const sideBySide = args.includes("--side-by-side");
const files = args.filter((a) => a !== "--side-by-side");
if (files.length === 0) {
  console.error("usage: tsx bench/summarize.ts [--side-by-side] <result.json>…");
  process.exit(2);
}
type Result = { runs: SalePhase[][]; database: string; settings: Record<string, unknown> };
const results = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as Result);

if (sideBySide) {
  const layout = (r: Result) => {
    const s = r.settings;
    const segments = Number(s.segments ?? 1);
    return `${webLayout({ web: Number(s.web), lb: s.lb, redis: s.redis })}${segments > 1 ? `, stock in ${segments} segments` : ""}`;
  };
  const columns = results.map((r) => new Map(headline(r.runs).map((h) => [`${h.name} (${h.unit})`, h.median])));
  const names = [...new Set(columns.flatMap((c) => [...c.keys()]))];
  const violations = results.map((r) => r.runs.flat().flatMap((p) => p.checks ?? []).filter((c) => !c.ok).length);
  const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  console.log(row(["", ...results.map(layout)]));
  console.log(row(["---", ...results.map(() => "---:")]));
  console.log(row(["runs (medians over them)", ...results.map((r) => r.runs.length)]));
  console.log(row(["database", ...results.map((r) => r.database)]));
  for (const name of names) console.log(row([name, ...columns.map((c) => (c.has(name) ? c.get(name)!.toLocaleString("en-US") : "—"))]));
  console.log(row(["invariant violations", ...violations]));
  console.log(`\nfiles: ${files.join(", ")}`);
} else {
  const runs: SalePhase[][] = [];
  for (const [i, r] of results.entries()) {
    console.log(
      `${files[i]}: ${r.runs.length} run(s), database ${r.database}, web ${String(r.settings.web)}, workers ${String(r.settings.workers)}`,
    );
    runs.push(...r.runs);
  }
  printHeadline(headline(runs));
}
