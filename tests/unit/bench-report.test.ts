import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { PathsPhase } from "@/bench/lib/paths";
import type { SalePhase } from "@/bench/lib/phases";
import type { ReferenceFigure, ReferenceRun } from "@/bench/lib/reference";
import { BEGIN, END, generatorCeiling, ratios, renderReport, soldOutBound, writeReport, type BenchResult } from "@/bench/lib/table";
import { speedDrift } from "@/bench/lib/speed";
import { OptionError, parseOptions } from "@/bench/lib/options";

const ref = (hello: number, admit: number): ReferenceRun => {
  const f = (p: ReferenceFigure["path"], rps: number, us: number): ReferenceFigure => ({
    path: p,
    seconds: 1,
    requests: rps,
    requestsPerSec: rps,
    latency: { p50: 1, p99: 2, max: 3 },
    errors: 0,
    cpuPercent: 90,
    cpuMicrosPerRequest: us,
    generatorMicrosPerRequest: 10,
  });
  return {
    connections: 50,
    secondsPerPath: 1,
    figures: { hello: f("hello", hello, 20), soldout: f("soldout", hello, 25), admit: f("admit", admit, 60) },
  };
};
const flash = (soldOutPerSec: number) =>
  ({
    kind: "flash",
    activity: { id: "a", stock: 100, limit: 1, shoppers: 2000 },
    buy: {
      requestsPerSec: 5000,
      webMicrosPerRequest: 80,
      orders: { latency: { p99: 9 } },
      cost: { cpu: { other: 12 } },
    },
    soldOut: {
      orders: { perSec: soldOutPerSec, latency: { p99: 5 } },
      webMicrosPerRequest: 30,
      cost: { cpu: { web: 90, other: 14 } },
    },
    timeline: { soldOutMs: 300, allAnsweredMs: 400 },
  }) as unknown as SalePhase;
const paths = (admittedPerSec: number, us: number) =>
  ({
    activity: { id: "p", stock: 2000, shoppers: 1000 },
    figures: [{ path: "orderAdmitted", requestsPerSec: admittedPerSec, webMicrosPerRequest: us, latency: { p99: 7 } }],
    checks: [],
  }) as unknown as PathsPhase;

describe("bench report: ratios to the in-run reference", () => {
  it("divides each run by its own reference pass and takes the median over runs", () => {
    const rows = ratios(
      [[flash(9000)], [flash(8000)], [flash(4000)]],
      [paths(6000, 90)],
      [ref(10_000, 10_000), ref(10_000, 12_000), ref(4000, 8000)],
    );
    const soldOut = rows.find((r) => r.figure === "Sold-out answers, req/s" && r.reference.what === "hello route")!;
    // 0.9, 0.8, 1.0: the slow third run is slow for the reference too, so its ratio is not an outlier.
    expect(soldOut.runs).toEqual([0.9, 0.8, 1]);
    expect(soldOut.median).toBe(0.9);
    expect(soldOut.target).toBe(0.9);
    // Only run 1 has a paths phase: its ratio uses run 1's reference.
    const admitted = rows.find((r) => r.figure === "Admitted order, web CPU per request")!;
    expect(admitted.runs).toEqual([1.5]);
  });

  it("reads the admitted-orders target with the workers on a core of their own when that pass was run", () => {
    const shared = (p: PathsPhase) => p.figures.find((f) => f.path === "orderAdmitted")!;
    const both = paths(4000, 90);
    both.figures.push({ ...shared(both), path: "orderAdmittedApart", requestsPerSec: 7000, webMicrosPerRequest: 72 });
    const rows = ratios([[flash(9000)]], [both], [ref(10_000, 10_000)]);
    const apart = rows.find((r) => r.figure.includes("on a core of their own"))!;
    const onWebCore = rows.find((r) => r.figure.includes("on the web process's core"))!;
    expect([apart.median, apart.target]).toEqual([0.7, 0.6]);
    expect([onWebCore.median, onWebCore.target]).toEqual([0.4, null]);
    const webCpu = rows.filter((r) => r.figure.startsWith("Admitted order ("));
    expect(webCpu.map((r) => [r.median, r.target])).toEqual([[1.2, 1.5], [1.5, null]]);
    // An older (or unpinned) result has the shared pass only: the target stays on it.
    const old = ratios([[flash(9000)]], [paths(4000, 90)], [ref(10_000, 10_000)]);
    expect(old.some((r) => r.figure.includes("on a core of their own"))).toBe(false);
    expect(old.find((r) => r.figure.includes("on the web process's core"))!.target).toBe(0.6);
  });

  it("renders ratios before absolute figures and rewrites only the marked block", () => {
    const result = {
      startedAt: "2026-12-01T12:00:00.000Z",
      command: "npm run bench -- --report",
      mode: "full",
      settings: { connections: 200, web: 1, workers: 2, pin: true },
      machine: {
        cpuModel: "Test CPU",
        cores: 2,
        memoryGiB: 4,
        node: "v20",
        redis: "7",
        postgres: "PostgreSQL 18",
        loadAverageAtStart: [1, 1, 1],
      },
      database: "pglite",
      pinned: "pinned to core 1",
      runs: [[flash(9000)]],
      paths: [paths(6000, 90)],
      reference: [ref(10_000, 10_000)],
      ratios: ratios([[flash(9000)]], [paths(6000, 90)], [ref(10_000, 10_000)]),
      violations: [],
    } satisfies BenchResult;
    const table = renderReport(result);
    expect(table.indexOf("ours ÷ reference")).toBeLessThan(table.indexOf("Absolute figures"));
    expect(table).toContain("**0.90×** | ≥ 0.9 ✓");
    expect(table).toContain("every order persisted 400 ms after the start (target ≤ 1,000 ms: met in 1 of 1 run(s) ✓)");
    expect(table).toMatch(/Machine: 2 × Test CPU.*other processes 13% of a core.*`npm run bench -- --report`/);

    // Results without Redis's share of the reference's admissions (before 2026-12-02 15:00) print no such row.
    expect(table).not.toContain("Redis's share");
    const measured = ref(10_000, 10_000);
    measured.figures.admit = { ...measured.figures.admit!, redisMicrosPerRequest: 61, scriptMicrosPerCall: 27.5 };
    expect(renderReport({ ...result, reference: [measured] })).toContain(
      "| reference: admission Lua, Redis's share | 61 µs of Redis CPU per admission, of which the script's own execution 27.5 µs",
    );

    // What the generator paid per sold-out answer caps the row where it is the limit (results since 2026-12-02 16:45).
    expect(table).not.toContain("What the generator paid");
    const paid = flash(9000);
    Object.assign(paid.soldOut!.cost.cpu, { generator: 90 }); // 90 % of a core at 9,000 answers/s: 100 µs each
    expect(generatorCeiling([[paid]], [ref(10_000, 10_000)])).toEqual({ oursMicros: 100, helloMicros: 10, ofHello: 0.1, runs: [0.1] });
    expect(renderReport({ ...result, runs: [[paid]] })).toContain(
      "**100 µs** per request in our sold-out phase (the crowd's requests, our answers and everything else the bench process did meanwhile), against 10 µs on the reference's hello route. At equal shares of its core that caps our sold-out answers at **0.10×** the hello route (runs 0.10)",
    );

    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "bench-report-")), "README.md");
    writeFileSync(file, `# T\n\nbefore\n${BEGIN}\nold table\n${END}\nafter\n`);
    expect(writeReport(table, [file, `${file}.missing`])).toEqual([file]);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("old table");
    expect(text).toContain(`${BEGIN}\n${table}\n${END}\nafter\n`);
  });

  it("shows, per run, whether the server core ran at the same speed on both sides of the ratios", () => {
    const speed = [
      { run: 1, before: "flash", side: "ours" as const, nsPerOp: 2600 },
      { run: 1, before: "reference: hello, soldout", side: "reference" as const, nsPerOp: 2650 },
      { run: 1, before: "admit", side: "ours" as const, nsPerOp: 2700 },
      { run: 2, before: "flash", side: "ours" as const, nsPerOp: 5200 },
      { run: 2, before: "reference: hello, soldout", side: "reference" as const, nsPerOp: 2600 },
      // A run whose reference was never driven has no ratio, so no drift either.
      { run: 3, before: "flash", side: "ours" as const, nsPerOp: 2600 },
    ];
    expect(speedDrift(speed)).toEqual([
      { run: 1, ours: 2650, reference: 2650, ratio: 1 },
      { run: 2, ours: 5200, reference: 2600, ratio: 2 },
    ]);
    const result = {
      startedAt: "2026-12-01T12:00:00.000Z", command: "npm run bench -- --report", mode: "full",
      settings: { connections: 200, web: 1, workers: 1, pin: true },
      machine: { cpuModel: "Test CPU", cores: 2, memoryGiB: 4, node: "v20", redis: "7", postgres: "PostgreSQL 18", loadAverageAtStart: [1, 1, 1] },
      database: "pglite", pinned: "pinned to core 1",
      runs: [[flash(9000)]], paths: [], reference: [ref(10_000, 10_000)],
      ratios: ratios([[flash(9000)]], [], [ref(10_000, 10_000)]), speed, violations: [],
    } satisfies BenchResult;
    expect(renderReport(result)).toContain("run 1 1.00, run 2 2.00.");

    // With --max-drift: a run taken again is listed apart (its ratios are not in the medians), and a
    // run kept beyond the limit (the reruns used up) is named.
    const limited = { ...result, settings: { ...result.settings, maxDrift: 0.1 } };
    const rerun = renderReport({ ...limited, reruns: [{ run: 2, drift: 2 }] });
    expect(rerun).toContain("run 1 1.00. A run far from 1.00");
    expect(rerun).toContain("Taken again, their ratios left out (speed moved beyond ±0.1; their invariant checks count): run 2 2.00.");
    expect(rerun).not.toContain("Kept although");
    expect(renderReport(limited)).toContain("Kept although beyond ±0.1 (the reruns, as many as --runs, were used up): run 2.");
    expect(renderReport({ ...limited, speed: speed.filter((x) => x.run === 1) })).toContain("run 1 1.00. A run far from 1.00 moved its ratios with the machine. No run moved beyond ±0.1.");
  });

  it("gives the reference's own sold-out over its hello route as the bound, only from passes sent the crowd's cookies", () => {
    const withCookies = (hello: number, soldOut: number, generatorUs: number): ReferenceRun => {
      const r = ref(hello, 5000);
      r.figures.soldout = { ...r.figures.soldout!, requestsPerSec: soldOut, generatorMicrosPerRequest: generatorUs };
      return { ...r, crowdCookies: true };
    };
    // Older results (no cookie on the reference's POSTs) give no bound: their sold-out pass was a lighter request.
    expect(soldOutBound([ref(10_000, 5000)])).toBeNull();
    const bound = soldOutBound([withCookies(20_000, 13_000, 75), withCookies(16_000, 11_200, 80), ref(10_000, 5000)])!;
    expect(bound.ofHello).toBeCloseTo(0.675, 3); // median of 0.65 and 0.70; the cookie-less run is left out
    expect(bound.generatorPct).toBeCloseTo(93.55, 2); // 13,000 × 75 µs = 97.5 %, 11,200 × 80 µs = 89.6 %
    expect(bound.helloGeneratorPct).toBeCloseTo(18, 5); // 20,000 and 16,000 req/s × 10 µs
  });
});

describe("bench options: --max-drift", () => {
  const parse = (...args: string[]) => parseOptions(args, process.cwd(), {} as NodeJS.ProcessEnv);
  it("reruns an unsteady run by default only when writing the report against a reference", () => {
    expect(parse().maxDrift).toBeNull();
    expect(parse("--report").maxDrift).toBe(0.15);
    expect(parse("--report", "--no-reference").maxDrift).toBeNull();
    expect(parse("--report", "--max-drift", "off").maxDrift).toBeNull();
    expect(parse("--max-drift", "0.05").maxDrift).toBe(0.05);
  });
  it("refuses a limit that is not a share between 0 and 1", () => {
    for (const bad of ["0", "1", "-0.1", "ten"]) expect(() => parse(`--max-drift=${bad}`)).toThrow(OptionError);
  });
});
