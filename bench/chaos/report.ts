// The fault suite's results (bench/results/chaos-*.json) and the table README.md and docs/chaos.md
// show, rendered from them: by `npm run chaos -- --report` after a run, or `--report-from` later.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ChaosCheck } from "@/bench/chaos/checks";
import type { PgMode } from "@/bench/chaos/services";
import { ROOT } from "@/scripts/lib/procs";

export interface ScenarioRun {
  scenario: string;
  what: string;
  postgres: PgMode;
  note: string;
  seconds: number;
  accepted: number;
  notFinal: number;
  violations: number;
  failed: ChaosCheck[];
  checks: ChaosCheck[];
  notApplicable: string[];
  crowd: { refused: Record<string, number>; retried: Record<string, number>; notFound: number; gaveUp: number; seconds: number };
  replay: { tried: number; sameTicket: number; otherTicket: number; refused: Record<string, number> };
  finalStates: Record<string, number>;
  restarted: string[];
  error?: string;
}

export interface ChaosResult {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; model: string; node: string };
  options: { shoppers: number; ci: boolean; scenarios: string[]; postgres: PgMode[] };
  runs: ScenarioRun[];
}

/** Runs of several result files (one per database, say) as one result, for the table. */
export function mergeResults(parts: ChaosResult[]): ChaosResult {
  const first = parts[0]!;
  return {
    startedAt: parts.map((p) => p.startedAt).sort()[0]!,
    finishedAt: parts.map((p) => p.finishedAt).sort().at(-1)!,
    machine: first.machine,
    options: { ...first.options, postgres: [...new Set(parts.flatMap((p) => p.options.postgres))] },
    runs: parts.flatMap((p) => p.runs),
  };
}

/** Replaces the chaos:begin … chaos:end block of the README and docs/chaos.md with the runs' table. */
export function writeBlocks(
  r: ChaosResult,
  files: string[],
  targets = ["README.md", "docs/chaos.md"].map((x) => path.join(ROOT, x)),
): string[] {
  const day = (iso: string) => iso.slice(0, 16).replace("T", " ");
  const when = `${day(r.startedAt)}–${r.finishedAt.slice(11, 16)} UTC, ${r.machine.cpus} cores (${r.machine.model.trim()}), ${r.options.shoppers} shoppers per scenario`;
  const block = [
    "<!-- chaos:begin (npm run chaos -- --report, or --report-from <results.json,…>, writes this block) -->",
    renderTable(r),
    "",
    `Cells: violations of I1–I4 and the suite's checks / \`202\`s without a final state / \`202\`s the crowd saw / seconds (fault, restarts, drain and checks included). Notes: the tickets' final answers other than \`CONFIRMED\`, what buyers were told to retry, anything that failed. Run of ${when}; every check with its figures is in ${files.map((f) => `\`${f}\``).join(", ")} (not committed: bench/results/*.json is ignored).`,
    "<!-- chaos:end -->",
  ].join("\n");
  for (const f of targets) {
    const text = readFileSync(f, "utf8");
    const next = text.replace(/<!-- chaos:begin[\s\S]*?<!-- chaos:end -->/, () => block);
    if (next !== text) writeFileSync(f, next);
  }
  return targets.filter((f) => readFileSync(f, "utf8").includes(block));
}

/**
 * What a run's cell does not show: the fault as it happened, the final answers other than CONFIRMED,
 * the answers that made buyers retry (by status and code, token and order requests together), failures.
 */
function notesOf(x: ScenarioRun): string {
  const out: string[] = [];
  if (x.error) out.push(`ERROR ${x.error}`);
  for (const k of x.failed.filter((f) => f.invariant !== "RUN")) out.push(`✗ ${k.invariant} ${k.name}: ${k.detail}`);
  if (x.note) out.push(x.note);
  const rejected = Object.entries(x.finalStates).filter(([k]) => k !== "CONFIRMED");
  if (rejected.length) out.push(rejected.map(([k, n]) => `${n} ${k}`).join(", "));
  const retried = new Map<string, number>();
  for (const [k, n] of Object.entries(x.crowd.retried)) {
    const why = k.replace(/^(token|order) /, "").replace(/^0 /, "");
    retried.set(why, (retried.get(why) ?? 0) + n);
  }
  if (retried.size) out.push(`retried: ${[...retried].map(([k, n]) => `${n}× ${k}`).join(", ")}`);
  if (x.crowd.notFound) out.push(`${x.crowd.notFound}× 404 to a buyer`);
  if (x.replay.otherTicket) out.push(`${x.replay.otherTicket} retried keys got another ticket`);
  if (x.crowd.gaveUp) out.push(`${x.crowd.gaveUp} shoppers unanswered at the crowd's deadline`);
  return out.join("; ") || "—";
}

/** The README's table: one row per scenario, one column per database, and the notes of each. */
export function renderTable(r: ChaosResult): string {
  const dbs = [...new Set(r.runs.map((x) => x.postgres))];
  const head = ["Scenario", ...dbs.map((d) => `${d}: violations / not final / 202s / s`), "Notes"];
  const rows = [...new Set(r.runs.map((x) => x.scenario))].map((sc) => {
    const of = (d: PgMode) => r.runs.find((y) => y.scenario === sc && y.postgres === d);
    return [
      `\`${sc}\` — ${r.runs.find((x) => x.scenario === sc)!.what}`,
      ...dbs.map((d) => {
        const x = of(d);
        if (!x) return "–";
        const mark = x.violations || x.notFinal || x.error ? "✗" : "✓";
        return `${mark} ${x.violations} / ${x.notFinal} / ${x.accepted} / ${x.seconds}`;
      }),
      dbs
        .map((d) => of(d))
        .filter((x): x is ScenarioRun => Boolean(x))
        .map((x) => `${x.postgres}: ${notesOf(x)}`)
        .join("<br>")
        .replaceAll("|", "\\|"),
    ];
  });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}
