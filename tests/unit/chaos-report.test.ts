import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { mergeResults, renderTable, writeBlocks, type ChaosResult, type ScenarioRun } from "@/bench/chaos/report";
import { ChaosTimeout, within } from "@/bench/chaos/within";

const scenario = (over: Partial<ScenarioRun>): ScenarioRun => ({
  scenario: "cancel",
  what: "cancel the sale under load",
  postgres: "pglite",
  note: "cancel applied",
  seconds: 12.5,
  accepted: 200,
  notFinal: 0,
  violations: 0,
  failed: [],
  checks: [],
  notApplicable: [],
  crowd: { refused: {}, retried: {}, notFound: 0, gaveUp: 0, seconds: 5 },
  replay: { tried: 200, sameTicket: 200, otherTicket: 0, refused: {} },
  finalStates: { CONFIRMED: 200 },
  restarted: [],
  ...over,
});

const result = (postgres: "pglite" | "native", runs: ScenarioRun[], startedAt: string): ChaosResult => ({
  startedAt,
  finishedAt: startedAt.replace("17:", "18:"),
  machine: { cpus: 2, model: "cpu", node: "v22" },
  options: { shoppers: 600, ci: false, scenarios: runs.map((r) => r.scenario), postgres: [postgres] },
  runs,
});

describe("fault suite report", () => {
  it("merges one result file per database into one row per scenario, with notes from the JSON", () => {
    const pglite = result(
      "pglite",
      [scenario({ finalStates: { CONFIRMED: 150, "REJECTED CANCELLED": 50 }, crowd: { refused: {}, retried: { "order 503 UNAVAILABLE": 3, "token 0 network": 1, "order 0 network": 1 }, notFound: 0, gaveUp: 0, seconds: 5 } })],
      "2026-12-01T17:30:00.000Z",
    );
    const native = result(
      "native",
      [scenario({ postgres: "native", violations: 1, failed: [{ invariant: "I4", name: "a | b", ok: false, detail: "2 live orders" }], error: "timed out after 30 s waiting for the admin control \"cancel\"" })],
      "2026-12-01T17:50:00.000Z",
    );
    const merged = mergeResults([native, pglite]);
    expect(merged.startedAt).toBe(pglite.startedAt);
    expect(merged.options.postgres).toEqual(["native", "pglite"]);
    const table = renderTable(merged).split("\n");
    expect(table).toHaveLength(3);
    expect(table[0]).toBe("| Scenario | native: violations / not final / 202s / s | pglite: violations / not final / 202s / s | Notes |");
    const row = table[2]!;
    expect(row).toContain("| ✗ 1 / 0 / 200 / 12.5 | ✓ 0 / 0 / 200 / 12.5 |");
    expect(row).toContain("native: ERROR timed out after 30 s waiting for the admin control \"cancel\"; ✗ I4 a \\| b: 2 live orders; cancel applied<br>pglite:");
    expect(row).toContain("pglite: cancel applied; 50 REJECTED CANCELLED; retried: 3× 503 UNAVAILABLE, 2× network");
  });

  it("rewrites only the marked block of each target", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "chaos-report-"));
    const file = path.join(dir, "README.md");
    writeFileSync(file, "before\n<!-- chaos:begin old -->\nold table\n<!-- chaos:end -->\nafter $1\n");
    const written = writeBlocks(result("pglite", [scenario({})], "2026-12-01T17:30:00.000Z"), ["bench/results/x.json"], [file]);
    expect(written).toEqual([file]);
    const text = readFileSync(file, "utf8");
    expect(text.startsWith("before\n<!-- chaos:begin")).toBe(true);
    expect(text.endsWith("<!-- chaos:end -->\nafter $1\n")).toBe(true);
    expect(text).not.toContain("old table");
    expect(text).toContain("| `cancel` — cancel the sale under load | ✓ 0 / 0 / 200 / 12.5 | pglite: cancel applied |");
    expect(text).toContain("`bench/results/x.json`");
  });
});

describe("bounded waits of the fault suite", () => {
  it("passes a result through, and names what it waited for when the time runs out", async () => {
    expect(await within("a quick step", 1000, Promise.resolve(7))).toBe(7);
    const never = new Promise<never>(() => {});
    const err = await within("the admin control \"cancel\" on sale s1", 20, () => never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChaosTimeout);
    expect((err as Error).message).toBe("timed out after 0.02 s waiting for the admin control \"cancel\" on sale s1");
  });
});
