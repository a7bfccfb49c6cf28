/**
 * Drift and data quality of a window of production values against a baseline profile, with the
 * metrics Azure ML's model monitoring names: normalized Wasserstein distance for numbers (the
 * Wasserstein-1 distance over the baseline's standard deviation, as Evidently normalizes it),
 * Jensen–Shannon distance for categories (base 2, so 0…1), and the population stability index for
 * both. A verdict knows its sample size: too few rows say so, and a value over the threshold is only
 * "drift" when it is also past what sampling alone gives a window of that size (found by drawing
 * windows of the same size from the baseline itself, see noiseFloor); otherwise "possible drift".
 */

import {
  binCounts,
  type CategoryProfile,
  type ColumnProfile,
  categoryOf,
  type NumberProfile,
  OTHER_CATEGORY,
  quantileOf,
  sortedNumbers,
} from "../baseline/index.js";
import { createRandom, type Random } from "../shared/index.js";

export type DriftMetric = "normalized_wasserstein_distance" | "jensen_shannon_distance";
export type Verdict = "insufficient data" | "no drift" | "possible drift" | "drift";

export interface DriftThresholds {
  /** Azure's defaults: 0.1 for both. */
  normalized_wasserstein_distance: number;
  jensen_shannon_distance: number;
  /** Reported beside the main metric; 0.2 is the usual "significant shift". */
  population_stability_index: number;
  /** Fewer rows than this in a window: insufficient data. */
  min_rows: number;
}

export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholds = {
  normalized_wasserstein_distance: 0.1,
  jensen_shannon_distance: 0.1,
  population_stability_index: 0.2,
  min_rows: 30,
};

export interface DriftResult {
  metric: DriftMetric;
  value: number;
  threshold: number;
  population_stability_index: number;
  /** What a window of this many rows drawn from the baseline itself reaches by chance (mean + 3 sd). */
  noise: number;
  rows: number;
  /**
   * The sample size the verdict counts: distinct rows (a request replayed a thousand times is one
   * observation, not a thousand), at most `rows`.
   */
  effective_rows: number;
  verdict: Verdict;
}

/** Noise floors are simulated with this many windows drawn from the baseline. */
const NOISE_DRAWS = 40;
/** Windows larger than this are simulated at this size (the noise is negligible by then). */
const NOISE_MAX_ROWS = 4000;
const PSI_EPSILON = 1e-4;

/** W1 between two quantile functions given at the same evenly spaced points (trapezoid rule). */
function wasserstein(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length - 1; i++)
    sum += (Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!)) / 2;
  return sum / (a.length - 1);
}

/** A scale for a numeric column: its standard deviation, else its range, else 1. */
const scaleOf = (p: NumberProfile) => (p.std > 0 ? p.std : p.max > p.min ? p.max - p.min : 1);

function psi(expected: readonly number[], actual: readonly number[]): number {
  const e = expected.reduce((s, v) => s + v, 0) || 1;
  const a = actual.reduce((s, v) => s + v, 0) || 1;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const pe = Math.max(PSI_EPSILON, expected[i]! / e);
    const pa = Math.max(PSI_EPSILON, actual[i]! / a);
    sum += (pa - pe) * Math.log(pa / pe);
  }
  return sum;
}

/** Jensen–Shannon distance (base 2) of two count vectors over the same categories. */
function jensenShannon(p: readonly number[], q: readonly number[]): number {
  const sp = p.reduce((s, v) => s + v, 0) || 1;
  const sq = q.reduce((s, v) => s + v, 0) || 1;
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    if (a > 0) divergence += 0.5 * a * Math.log2(a / m);
    if (b > 0) divergence += 0.5 * b * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, divergence));
}

interface Measure {
  value: number;
  psi: number;
}

function measureNumbers(base: NumberProfile, sorted: ArrayLike<number>): Measure {
  const points = base.quantiles.length;
  const q = Array.from({ length: points }, (_, i) => quantileOf(sorted, i / (points - 1)));
  return {
    value: wasserstein(base.quantiles, q) / scaleOf(base),
    psi: psi(base.bins.counts, binCounts(sorted, base.bins.cuts)),
  };
}

/** Counts of production categories over the baseline's categories (unknown ones pooled as "(other)"). */
function categoryCounts(base: CategoryProfile, values: readonly (string | null)[]): [number[], number[]] {
  const names = Object.keys(base.frequencies);
  if (!names.includes(OTHER_CATEGORY)) names.push(OTHER_CATEGORY);
  const index = new Map(names.map((n, i) => [n, i]));
  const actual = new Array<number>(names.length).fill(0);
  for (const v of values) {
    if (v === null) continue;
    actual[index.get(v) ?? index.get(OTHER_CATEGORY)!]!++;
  }
  return [names.map((n) => base.frequencies[n] ?? 0), actual];
}

function measureCategories(base: CategoryProfile, values: readonly (string | null)[]): Measure {
  const [expected, actual] = categoryCounts(base, values);
  return { value: jensenShannon(expected, actual), psi: psi(expected, actual) };
}

/** A value drawn from the baseline: its quantile function for numbers, its frequencies for categories. */
function drawer(base: ColumnProfile, random: Random): () => number | string {
  if (base.type === "number") {
    const q = base.quantiles;
    // Whole numbers (a day of the week, an age) are drawn as the values they are, not between them.
    const discrete = q.every((v) => Number.isInteger(v));
    return () => {
      const at = random.next() * (q.length - 1);
      const lo = Math.floor(at);
      if (discrete) return q[Math.round(at)]!;
      return q[lo]! + (q[Math.min(q.length - 1, lo + 1)]! - q[lo]!) * (at - lo);
    };
  }
  const names = Object.keys(base.frequencies);
  const weights = names.map((n) => base.frequencies[n]!);
  return () => random.weighted(names, weights);
}

/**
 * How far the metric goes by chance alone: windows of the same size are drawn from the baseline and
 * measured against it; the floor is their mean plus three standard deviations. Both the window and the
 * baseline are samples, so a window is drawn at the size that carries both uncertainties:
 * n·m / (n + m) for n production rows and m baseline rows.
 */
function noiseFloor(base: ColumnProfile, rows: number, seed: number): number {
  const random = createRandom(seed);
  const draw = drawer(base, random);
  const m = base.count - base.nulls;
  const n = Math.max(2, Math.min(NOISE_MAX_ROWS, Math.round(m > 0 ? (rows * m) / (rows + m) : rows)));
  const values: number[] = [];
  for (let k = 0; k < NOISE_DRAWS; k++) {
    const sample = Array.from({ length: n }, draw);
    values.push(
      base.type === "number"
        ? measureNumbers(base, Float64Array.from(sample as number[]).sort()).value
        : measureCategories(base, sample as string[]).value,
    );
  }
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
  return mean + 3 * sd;
}

const seedOf = (text: string) =>
  [...text].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261);

/** Drift of one column of production values against its baseline profile. */
export function columnDrift(
  name: string,
  base: ColumnProfile,
  values: readonly unknown[],
  thresholds: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS,
  /** Distinct rows behind the values (repeats are not new evidence); all of them when absent. */
  distinctRows?: number,
): DriftResult {
  const metric: DriftMetric =
    base.type === "number" ? "normalized_wasserstein_distance" : "jensen_shannon_distance";
  const threshold = thresholds[metric];
  let measure: Measure;
  let rows: number;
  if (base.type === "number") {
    const { sorted } = sortedNumbers(values.map((v) => (typeof v === "number" ? v : null)));
    rows = sorted.length;
    measure = rows ? measureNumbers(base, sorted) : { value: 0, psi: 0 };
  } else {
    const categories = values.map(categoryOf).filter((v) => v !== null);
    rows = categories.length;
    measure = rows ? measureCategories(base, categories) : { value: 0, psi: 0 };
  }
  const effective = Math.min(rows, distinctRows ?? rows);
  const result = {
    metric,
    value: measure.value,
    threshold,
    population_stability_index: measure.psi,
    rows,
    effective_rows: effective,
  };
  if (effective < thresholds.min_rows) return { ...result, noise: Number.NaN, verdict: "insufficient data" };
  if (measure.value <= threshold) return { ...result, noise: Number.NaN, verdict: "no drift" };
  const noise = noiseFloor(base, effective, seedOf(name));
  return { ...result, noise, verdict: measure.value > noise ? "drift" : "possible drift" };
}

export type QualityMetric = "null_value_rate" | "data_type_error_rate" | "out_of_bounds_rate";

export interface QualityResult {
  metric: QualityMetric;
  /** The production rate, the baseline's, and the excess allowed over it (Azure's default: 0). */
  value: number;
  baseline: number;
  threshold: number;
  count: number;
  rows: number;
  violated: boolean;
}

export type QualityThresholds = Record<QualityMetric, number>;
export const DEFAULT_QUALITY_THRESHOLDS: QualityThresholds = {
  null_value_rate: 0,
  data_type_error_rate: 0,
  out_of_bounds_rate: 0,
};

/**
 * One rate against what the baseline had: violated when the production rate exceeds the baseline's
 * by more than the threshold and by more than three standard errors (a thin window is not a violation).
 */
function rate(
  metric: QualityMetric,
  count: number,
  rows: number,
  baseline: number,
  thresholds: QualityThresholds,
): QualityResult {
  const value = rows ? count / rows : 0;
  const standardError = rows ? Math.sqrt((Math.max(baseline, 1 / rows) * (1 - baseline)) / rows) : 0;
  const excess = value - baseline;
  return {
    metric,
    value,
    baseline,
    threshold: thresholds[metric],
    count,
    rows,
    violated: rows > 0 && count > 0 && excess > thresholds[metric] && excess > 3 * standardError,
  };
}

/**
 * Data quality of one column: nulls (missing or null), type errors (a number where the baseline had
 * categories is fine; text where it had numbers is not), and values outside what the baseline saw
 * (under its minimum or over its maximum; a category it never had). A value beyond the range of n
 * baseline rows happens by chance for 2/(n+1) of new values; that is the baseline's own rate.
 */
export function columnQuality(
  base: ColumnProfile,
  values: readonly unknown[],
  thresholds: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
): QualityResult[] {
  const rows = values.length;
  let nulls = 0;
  let typeErrors = 0;
  let outside = 0;
  for (const v of values) {
    if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) {
      nulls++;
      continue;
    }
    if (base.type === "number") {
      if (typeof v !== "number") typeErrors++;
      else if (v < base.min || v > base.max) outside++;
    } else if (typeof v === "object") typeErrors++;
    else if (!(String(v) in base.frequencies) && !(OTHER_CATEGORY in base.frequencies)) outside++;
  }
  const present = base.count - base.nulls;
  return [
    rate("null_value_rate", nulls, rows, base.count ? base.nulls / base.count : 0, thresholds),
    rate("data_type_error_rate", typeErrors, rows - nulls, 0, thresholds),
    rate(
      "out_of_bounds_rate",
      outside,
      rows - nulls - typeErrors,
      present ? 2 / (present + 1) : 0,
      thresholds,
    ),
  ];
}
