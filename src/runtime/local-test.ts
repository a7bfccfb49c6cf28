/**
 * `pier test-local`: the seed's "always test locally first", done with the real runtime. Loads an
 * ONNX model package, scores every row of a CSV, measures single-row and batch latency against the
 * seed's gates, and sends the edge cases that broke the seed's scoring script.
 */
import { PierError } from "../shared/index.js";
import { OnnxScorer, type PredictionRow } from "./onnx-scorer.js";

const LATENCY_GATES = { meanMs: 100, p95Ms: 200 } as const;

export interface LatencySummary {
  calls: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface EdgeCaseResult {
  name: string;
  expected: "error" | "answer";
  outcome: "error" | "answer" | "crash";
  passed: boolean;
  detail: string;
}

export interface LocalTestReport {
  modelDir: string;
  loadMs: number;
  rows: number;
  positives: number;
  singleRow: LatencySummary;
  batch: LatencySummary & { batchRows: number; perRowUs: number };
  gates: { name: string; limitMs: number; valueMs: number; passed: boolean }[];
  edgeCases: EdgeCaseResult[];
  passed: boolean;
}

export interface LocalTestOptions {
  modelDir: string;
  records: Record<string, unknown>[];
  iterations?: number;
}

function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    calls: samples.length,
    meanMs: samples.reduce((a, b) => a + b, 0) / samples.length,
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    p99Ms: at(0.99),
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

function positiveShare(row: PredictionRow | undefined): number | undefined {
  const p = row?.probabilities;
  return Array.isArray(p) ? (p[p.length - 1] as number) : undefined;
}

async function runEdgeCases(scorer: OnnxScorer, sample: Record<string, unknown>): Promise<EdgeCaseResult[]> {
  const inputs = scorer.inputs.tensors;
  const names = inputs.map((f) => f.name);
  const numeric = inputs.find((f) => f.dtype !== "string")?.name;
  const text = inputs.find((f) => f.dtype === "string")?.name;
  const withValue = (column: string | undefined, value: unknown) =>
    column ? [{ ...sample, [column]: value }] : [sample];
  const withoutFirst = Object.fromEntries(Object.entries(sample).filter(([k]) => k !== names[0]));
  const cases: { name: string; expected: "error" | "answer"; records: Record<string, unknown>[] }[] = [
    { name: "wrong column set", expected: "error", records: [{ ...withoutFirst, feature_0: 1.5 }] },
    { name: "empty input", expected: "error", records: [] },
    { name: `NaN in '${numeric}'`, expected: "answer", records: withValue(numeric, Number.NaN) },
    { name: `+1e10 in '${numeric}'`, expected: "answer", records: withValue(numeric, 1e10) },
    { name: `-1e10 in '${numeric}'`, expected: "answer", records: withValue(numeric, -1e10) },
    { name: `a number in string column '${text}'`, expected: "error", records: withValue(text, 42) },
  ];
  const results: EdgeCaseResult[] = [];
  for (const c of cases) {
    try {
      const rows = await scorer.score(c.records);
      const p = positiveShare(rows[0]);
      const defined = p === undefined || Number.isFinite(p);
      results.push({
        name: c.name,
        expected: c.expected,
        outcome: "answer",
        passed: c.expected === "answer" && defined,
        detail: defined
          ? `answered ${JSON.stringify(rows[0])}`
          : `answered with a non-finite probability ${p}`,
      });
    } catch (error) {
      const clear = error instanceof PierError && error.class === "user";
      results.push({
        name: c.name,
        expected: c.expected,
        outcome: clear ? "error" : "crash",
        passed: clear && c.expected === "error",
        detail: clear ? `${error.code}: ${error.summary}` : `unhandled ${(error as Error).message}`,
      });
    }
  }
  return results;
}

/** Runs the whole local test; never throws for a failing gate (the report says so). */
export async function runLocalTest(options: LocalTestOptions): Promise<LocalTestReport> {
  const iterations = options.iterations ?? 100;
  const [scorer, loadMs] = await timed(() => OnnxScorer.load(options.modelDir));
  try {
    const all = await scorer.score(options.records);
    const positives = all.filter((row) => (positiveShare(row) ?? 0) > 0.5).length;

    await scorer.score([options.records[0]!]); // warm-up, not measured
    const single: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const record = options.records[i % options.records.length]!;
      single.push((await timed(() => scorer.score([record])))[1]);
    }
    const batchCalls = Math.max(3, Math.min(20, Math.ceil(iterations / 10)));
    const batchRows = Math.min(1000, options.records.length);
    const batchRecords = options.records.slice(0, batchRows);
    const batch: number[] = [];
    for (let i = 0; i < batchCalls; i++) batch.push((await timed(() => scorer.score(batchRecords)))[1]);

    const singleRow = summarize(single);
    const batchSummary = summarize(batch);
    const gates = [
      {
        name: "mean",
        limitMs: LATENCY_GATES.meanMs,
        valueMs: singleRow.meanMs,
        passed: singleRow.meanMs < LATENCY_GATES.meanMs,
      },
      {
        name: "p95",
        limitMs: LATENCY_GATES.p95Ms,
        valueMs: singleRow.p95Ms,
        passed: singleRow.p95Ms < LATENCY_GATES.p95Ms,
      },
    ];
    const edgeCases = await runEdgeCases(scorer, options.records[0]!);
    return {
      modelDir: options.modelDir,
      loadMs,
      rows: options.records.length,
      positives,
      singleRow,
      batch: { ...batchSummary, batchRows, perRowUs: (batchSummary.meanMs * 1000) / batchRows },
      gates,
      edgeCases,
      passed: gates.every((g) => g.passed) && edgeCases.every((c) => c.passed),
    };
  } finally {
    await scorer.close();
  }
}
