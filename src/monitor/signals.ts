/**
 * A deployment's monitoring signals over a window, as Azure ML's model monitoring names them: data
 * drift per feature, prediction drift per output, data quality per feature; with what a report plots
 * (each feature's histogram, baseline beside production; drift per feature over time; requests,
 * errors and latency per minute).
 */

import {
  type Baseline,
  type ColumnProfile,
  categoryOf,
  histogramCounts,
  sortedNumbers,
} from "../baseline/index.js";
import {
  columnDrift,
  columnQuality,
  DEFAULT_DRIFT_THRESHOLDS,
  DEFAULT_QUALITY_THRESHOLDS,
  type DriftResult,
  type DriftThresholds,
  type QualityResult,
  type QualityThresholds,
  type Verdict,
} from "./drift.js";
import type { CapturedRows } from "./read.js";
import type { MinuteStats } from "./series.js";

export interface SignalThresholds {
  drift: DriftThresholds;
  quality: QualityThresholds;
}

const DEFAULT_SIGNAL_THRESHOLDS: SignalThresholds = {
  drift: DEFAULT_DRIFT_THRESHOLDS,
  quality: DEFAULT_QUALITY_THRESHOLDS,
};

export interface ColumnDrift extends DriftResult {
  name: string;
  type: ColumnProfile["type"];
}

export interface ColumnQuality {
  name: string;
  results: QualityResult[];
}

/** Baseline and production side by side, as proportions, for a plot. */
export type Histogram =
  | { type: "number"; edges: number[]; baseline: number[]; production: number[] }
  | { type: "category"; categories: string[]; baseline: number[]; production: number[] };

export interface DeploymentSignals {
  endpoint: string;
  deployment: string;
  model: { name: string; version: number };
  window: { from: string; to: string };
  /** Whether the deployment's YAML has a data_collector with model_inputs. */
  capturing: boolean;
  baseline: { source: string; rows: number; origin: string } | null;
  captured: {
    /** Input rows in the window. */
    rows: number;
    /** Rows the signals were computed on: all of them, or a uniform sample of MAX_ROWS. */
    sampled: number;
    /** Distinct rows: the sample size drift counts. */
    distinct: number;
    predictions: number;
    records: number;
    skipped: number;
    files: number;
    /** Only the window's newest files were read (it held more than one report reads). */
    truncated: boolean;
  };
  data_drift: ColumnDrift[];
  prediction_drift: ColumnDrift[];
  data_quality: ColumnQuality[];
  histograms: Record<string, Histogram>;
  drift_over_time: { slots: string[]; values: Record<string, (number | null)[]> };
  traffic: MinuteStats[];
  /** The worst verdict, and the features behind it. */
  summary: {
    verdict: Verdict | "no baseline" | "no data";
    drift: string[];
    possible: string[];
    quality: string[];
  };
}

const proportions = (counts: readonly number[]) => {
  const total = counts.reduce((s, v) => s + v, 0) || 1;
  return counts.map((c) => c / total);
};

function histogram(base: ColumnProfile, values: readonly unknown[]): Histogram {
  if (base.type === "number") {
    const { sorted } = sortedNumbers(values.map((v) => (typeof v === "number" ? v : null)));
    // Production values past the baseline's range widen the plot, so a shift is seen, not clipped.
    const edges = [...base.histogram.edges];
    const width = edges[1]! > edges[0]! ? edges[1]! - edges[0]! : Math.abs(edges[0]!) * 0.1 || 1;
    let first = 0;
    while (sorted.length && sorted[0]! < edges[0]! && edges.length < 60) {
      edges.unshift(edges[0]! - width);
      first++;
    }
    while (sorted.length && sorted[sorted.length - 1]! > edges[edges.length - 1]! && edges.length < 60)
      edges.push(edges[edges.length - 1]! + width);
    const baseline = new Array<number>(edges.length - 1).fill(0);
    base.histogram.counts.forEach((c, i) => {
      baseline[first + i] = c;
    });
    return {
      type: "number",
      edges,
      baseline: proportions(baseline),
      production: proportions(histogramCounts(sorted, edges)),
    };
  }
  const production = new Map<string, number>();
  for (const v of values) {
    const c = categoryOf(v);
    if (c !== null) production.set(c, (production.get(c) ?? 0) + 1);
  }
  const categories = [...new Set([...Object.keys(base.frequencies), ...production.keys()])].slice(0, 30);
  return {
    type: "category",
    categories,
    baseline: proportions(categories.map((c) => base.frequencies[c] ?? 0)),
    production: proportions(categories.map((c) => production.get(c) ?? 0)),
  };
}

/** Up to this many slots of drift over time. */
const TIME_SLOTS = 12;

function driftOverTime(
  baseline: Baseline,
  captured: CapturedRows,
  thresholds: DriftThresholds,
): DeploymentSignals["drift_over_time"] {
  const times = captured.times;
  if (times.length === 0) return { slots: [], values: {} };
  // A loop, not Math.min(...times): a busy window has more rows than a call has room for arguments.
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const span = Math.max(1, last - first + 1);
  const slotOf = (t: number) => Math.min(TIME_SLOTS - 1, Math.floor(((t - first) / span) * TIME_SLOTS));
  const bySlot: number[][] = Array.from({ length: TIME_SLOTS }, () => []);
  times.forEach((t, i) => {
    bySlot[slotOf(t)]!.push(i);
  });
  const used = bySlot.map((rows, slot) => ({ rows, slot })).filter((s) => s.rows.length > 0);
  const values: Record<string, (number | null)[]> = {};
  for (const [name, base] of Object.entries(baseline.features))
    values[name] = used.map(({ rows }) => {
      if (rows.length < thresholds.min_rows) return null;
      return columnDrift(
        name,
        base,
        rows.map((i) => captured.inputs[i]![name]),
        {
          ...thresholds,
          min_rows: Number.POSITIVE_INFINITY,
        },
      ).value;
    });
  return {
    slots: used.map(({ slot }) => new Date(first + (span * slot) / TIME_SLOTS).toISOString()),
    values,
  };
}

const rank: Record<Verdict, number> = {
  "insufficient data": 0,
  "no drift": 1,
  "possible drift": 2,
  drift: 3,
};

export interface SignalInput {
  endpoint: string;
  deployment: string;
  model: { name: string; version: number };
  from: number;
  to: number;
  capturing: boolean;
  baseline: { baseline: Baseline; origin: string } | undefined;
  captured: CapturedRows;
  traffic: MinuteStats[];
  thresholds?: SignalThresholds;
}

/** A report's input without the captured rows: what the worker thread is sent (it reads them itself). */
export type SignalJob = Omit<SignalInput, "captured"> & { home: string };

export function deploymentSignals(input: SignalInput): DeploymentSignals {
  const thresholds = input.thresholds ?? DEFAULT_SIGNAL_THRESHOLDS;
  const { captured } = input;
  const base = input.baseline?.baseline;
  const column = (name: string) => captured.inputs.map((row) => row[name]);
  const data_drift: ColumnDrift[] = [];
  const data_quality: ColumnQuality[] = [];
  const histograms: Record<string, Histogram> = {};
  const prediction_drift: ColumnDrift[] = [];
  if (base) {
    for (const [name, profile] of Object.entries(base.features)) {
      const values = column(name);
      data_drift.push({
        name,
        type: profile.type,
        ...columnDrift(name, profile, values, thresholds.drift, captured.distinctRows),
      });
      data_quality.push({ name, results: columnQuality(profile, values, thresholds.quality) });
      histograms[name] = histogram(profile, values);
    }
    for (const [name, profile] of Object.entries(base.predictions)) {
      const values = captured.outputs.get(name) ?? [];
      prediction_drift.push({
        name,
        type: profile.type,
        ...columnDrift(name, profile, values, thresholds.drift, captured.distinctRows),
      });
      histograms[`prediction: ${name}`] = histogram(profile, values);
    }
  }
  const verdicts = [...data_drift, ...prediction_drift];
  const worst = verdicts.reduce<Verdict | undefined>(
    (w, d) => (w === undefined || rank[d.verdict] > rank[w] ? d.verdict : w),
    undefined,
  );
  const quality = data_quality.filter((q) => q.results.some((r) => r.violated)).map((q) => q.name);
  return {
    endpoint: input.endpoint,
    deployment: input.deployment,
    model: input.model,
    window: { from: new Date(input.from).toISOString(), to: new Date(input.to).toISOString() },
    capturing: input.capturing,
    baseline: base ? { source: base.source, rows: base.rows, origin: input.baseline!.origin } : null,
    captured: {
      rows: captured.rowsInWindow,
      sampled: captured.inputs.length,
      distinct: captured.distinctRows,
      predictions: captured.outputTimes.length,
      records: captured.records,
      skipped: captured.skipped,
      files: captured.files,
      truncated: captured.truncated,
    },
    data_drift,
    prediction_drift,
    data_quality,
    histograms,
    drift_over_time: base ? driftOverTime(base, captured, thresholds.drift) : { slots: [], values: {} },
    traffic: input.traffic,
    summary: {
      verdict: !base ? "no baseline" : captured.inputs.length === 0 ? "no data" : (worst ?? "no drift"),
      drift: verdicts.filter((d) => d.verdict === "drift").map((d) => d.name),
      possible: verdicts.filter((d) => d.verdict === "possible drift").map((d) => d.name),
      quality,
    },
  };
}
