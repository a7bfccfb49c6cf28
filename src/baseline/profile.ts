/**
 * A data profile: what a column of training data (or of production data) looked like, kept small
 * enough to ship inside a model package. Numbers keep 101 quantiles (the quantile function drift is
 * measured on), decile bins for the population stability index and a 20-bin histogram for plots;
 * categories keep their frequencies. A baseline is the profile of a model's training inputs and of
 * its predictions on held-out rows.
 */

export const BASELINE_FILE = "baseline.json";
export const BASELINE_SCHEMA = "pier.baseline/1";

/** Quantiles kept per numeric column: 0 %, 1 %, …, 100 %. */
const QUANTILE_POINTS = 101;
const HISTOGRAM_BINS = 20;
/** Categories kept by name; the rest are pooled. */
const MAX_CATEGORIES = 100;
export const OTHER_CATEGORY = "(other)";

export interface NumberProfile {
  type: "number";
  count: number;
  nulls: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** The value at 0 %, 1 %, …, 100 %. */
  quantiles: number[];
  /** Decile cut points (deduplicated) and how many values fell at or under each, and over the last. */
  bins: { cuts: number[]; counts: number[] };
  histogram: { edges: number[]; counts: number[] };
}

export interface CategoryProfile {
  type: "category";
  count: number;
  nulls: number;
  frequencies: Record<string, number>;
}

export type ColumnProfile = NumberProfile | CategoryProfile;

export interface Baseline {
  schema: typeof BASELINE_SCHEMA;
  createdAt: string;
  /** Where the rows came from (a CSV, "training split of …"). */
  source: string;
  rows: number;
  features: Record<string, ColumnProfile>;
  /** The model's outputs on the baseline rows, per output (vectors split per position: probabilities[1]). */
  predictions: Record<string, ColumnProfile>;
}

/** The value at fraction `p` of sorted values, interpolated linearly. */
export function quantileOf(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = p * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** How many sorted values are ≤ each cut, as counts per bin: (−∞, c0], (c0, c1], …, (c_last, ∞). */
export function binCounts(sorted: ArrayLike<number>, cuts: readonly number[]): number[] {
  const counts = new Array<number>(cuts.length + 1).fill(0);
  let bin = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (bin < cuts.length && sorted[i]! > cuts[bin]!) bin++;
    counts[bin]!++;
  }
  return counts;
}

/** Counts of sorted values per histogram bin (the last bin closed); values outside are left out. */
export function histogramCounts(sorted: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(Math.max(1, edges.length - 1)).fill(0);
  const lo = edges[0]!;
  const hi = edges[edges.length - 1]!;
  const width = (hi - lo) / counts.length;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (v < lo || v > hi) continue;
    const bin = width > 0 ? Math.min(counts.length - 1, Math.floor((v - lo) / width)) : 0;
    counts[bin]!++;
  }
  return counts;
}

/** Sorted finite numbers of a column, and how many were missing. */
export function sortedNumbers(values: Iterable<number | null>): { sorted: Float64Array; nulls: number } {
  const kept: number[] = [];
  let nulls = 0;
  for (const v of values) {
    if (v === null || Number.isNaN(v)) nulls++;
    else kept.push(v);
  }
  return { sorted: Float64Array.from(kept).sort(), nulls };
}

export function profileNumbers(values: Iterable<number | null>): NumberProfile {
  const { sorted, nulls } = sortedNumbers(values);
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = n ? sum / n : Number.NaN;
  let squares = 0;
  for (const v of sorted) squares += (v - mean) ** 2;
  const quantiles = Array.from({ length: QUANTILE_POINTS }, (_, i) =>
    quantileOf(sorted, i / (QUANTILE_POINTS - 1)),
  );
  const cuts = [...new Set(Array.from({ length: 9 }, (_, i) => quantiles[(i + 1) * 10]!))].filter(
    (c) => !Number.isNaN(c),
  );
  const min = n ? sorted[0]! : Number.NaN;
  const max = n ? sorted[n - 1]! : Number.NaN;
  const edges =
    n === 0
      ? [0, 1]
      : min === max
        ? [min, max]
        : Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => min + ((max - min) * i) / HISTOGRAM_BINS);
  return {
    type: "number",
    count: n + nulls,
    nulls,
    min,
    max,
    mean,
    std: n > 1 ? Math.sqrt(squares / (n - 1)) : 0,
    quantiles,
    bins: { cuts, counts: binCounts(sorted, cuts) },
    histogram: { edges, counts: histogramCounts(sorted, edges) },
  };
}

export function profileCategories(values: Iterable<string | null>): CategoryProfile {
  const counts = new Map<string, number>();
  let count = 0;
  let nulls = 0;
  for (const v of values) {
    count++;
    if (v === null) nulls++;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const frequencies: Record<string, number> = {};
  for (const [value, n] of sorted.slice(0, MAX_CATEGORIES)) frequencies[value] = n;
  const other = sorted.slice(MAX_CATEGORIES).reduce((sum, [, n]) => sum + n, 0);
  if (other > 0) frequencies[OTHER_CATEGORY] = (frequencies[OTHER_CATEGORY] ?? 0) + other;
  return { type: "category", count, nulls, frequencies };
}

/** A value as a category: strings as they are, booleans and numbers as text. */
export const categoryOf = (v: unknown): string | null =>
  v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))
    ? null
    : typeof v === "string"
      ? v
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v);

/**
 * Whether a column of JSON values is numeric: numbers (not booleans) for most of what is present,
 * and, for outputs, not a handful of whole numbers (class labels are categories).
 */
export function looksNumeric(values: readonly unknown[], labelsAreCategories: boolean): boolean {
  let numbers = 0;
  let present = 0;
  const distinct = new Set<number>();
  let whole = true;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    present++;
    if (typeof v === "number") {
      numbers++;
      if (distinct.size <= 20) distinct.add(v);
      if (!Number.isInteger(v)) whole = false;
    }
  }
  if (present === 0 || numbers < present * 0.9) return false;
  return !(labelsAreCategories && whole && distinct.size <= 20);
}

/** The profile of a column of JSON values, as a number or as a category. */
export function profileValues(values: readonly unknown[], kind: "number" | "category"): ColumnProfile {
  return kind === "number"
    ? profileNumbers(values.map((v) => (typeof v === "number" ? v : null)))
    : profileCategories(values.map(categoryOf));
}
