/**
 * Feature engineering for the financial-behavior model: the eight model inputs derived from the
 * banking columns, the targets, and the preprocessing (median impute + standard scaling for numbers,
 * most-frequent impute + one-hot for categories) fitted on training rows only.
 */
import { userError } from "../shared/index.js";
import { dayOfWeekMondayZero, daysBetween } from "./banking-schema.js";
import type { ColumnRequirement, CsvTable } from "./csv-table.js";

export const NUMERIC_INPUTS = [
  "Age",
  "Transaction Amount",
  "Account Balance",
  "AccountAgeDays",
  "TransactionHour",
  "TransactionDayOfWeek",
] as const;
export const CATEGORICAL_INPUTS = ["Transaction Type", "Gender"] as const;
const MODEL_INPUTS = [...NUMERIC_INPUTS, ...CATEGORICAL_INPUTS] as const;
export type ModelInputName = (typeof MODEL_INPUTS)[number];

/** The CSV columns the eight inputs are derived from. */
export const INPUT_SOURCE_COLUMNS: readonly ColumnRequirement[] = [
  { name: "Age", type: "number" },
  { name: "Gender", type: "string" },
  { name: "Account Balance", type: "number" },
  { name: "Date Of Account Opening", type: "date" },
  { name: "Transaction Date", type: "date" },
  { name: "Transaction Type", type: "string" },
  { name: "Transaction Amount", type: "number" },
];

/** Model inputs, column-wise: NaN / null mark missing values. */
export interface InputColumns {
  count: number;
  numeric: Float64Array[];
  categorical: (string | null)[][];
}

/** Derives AccountAgeDays, TransactionHour and TransactionDayOfWeek and gathers the eight inputs. */
export function engineerInputs(table: CsvTable): InputColumns {
  const n = table.rowCount;
  const opened = table.numbers.get("Date Of Account Opening")!;
  const transacted = table.numbers.get("Transaction Date")!;
  const accountAgeDays = new Float64Array(n);
  const hour = new Float64Array(n);
  const dayOfWeek = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = transacted[i]!;
    const o = opened[i]!;
    accountAgeDays[i] = Number.isNaN(t) || Number.isNaN(o) ? Number.NaN : daysBetween(o, t);
    hour[i] = Number.isNaN(t) ? Number.NaN : new Date(t).getUTCHours();
    dayOfWeek[i] = Number.isNaN(t) ? Number.NaN : dayOfWeekMondayZero(t);
  }
  return {
    count: n,
    numeric: [
      table.numbers.get("Age")!,
      table.numbers.get("Transaction Amount")!,
      table.numbers.get("Account Balance")!,
      accountAgeDays,
      hour,
      dayOfWeek,
    ],
    categorical: [table.strings.get("Transaction Type")!, table.strings.get("Gender")!],
  };
}

/** The eight inputs of one row as a JSON record (missing values as null). */
export function recordAt(inputs: InputColumns, row: number): Record<ModelInputName, number | string | null> {
  const record: Record<string, number | string | null> = {};
  NUMERIC_INPUTS.forEach((name, j) => {
    const v = inputs.numeric[j]![row]!;
    record[name] = Number.isNaN(v) ? null : v;
  });
  CATEGORICAL_INPUTS.forEach((name, j) => {
    record[name] = inputs.categorical[j]![row]!;
  });
  return record as Record<ModelInputName, number | string | null>;
}

export interface Target {
  name: string;
  /** 1 where the row is in the positive class. */
  y: Uint8Array;
  positiveLabel: string;
  negativeLabel: string;
  description: string;
}

export function targetRequirement(name: string): ColumnRequirement | undefined {
  return name === "HighAmount" ? undefined : { name, type: "string", allowMissing: false };
}

/** HighAmount = Transaction Amount ≥ its 0.95 quantile; other targets: a two-valued column, minority = positive. */
export function deriveTarget(table: CsvTable, name: string): Target {
  if (name === "HighAmount") {
    const amounts = table.numbers.get("Transaction Amount")!;
    const firstMissing = amounts.findIndex((v) => Number.isNaN(v));
    if (firstMissing >= 0) {
      throw userError(
        "TargetValueMissing",
        `HighAmount needs every Transaction Amount, but row ${firstMissing + 1} of ${table.source} is empty`,
        "Fill in or remove rows without an amount.",
      );
    }
    const threshold = quantile(Array.from(amounts), 0.95);
    return {
      name,
      y: Uint8Array.from(amounts, (v) => (v >= threshold ? 1 : 0)),
      positiveLabel: "1",
      negativeLabel: "0",
      description: `Transaction Amount >= ${threshold.toFixed(2)} (its 0.95 quantile)`,
    };
  }
  const values = table.strings.get(name);
  if (!values)
    throw userError("TargetUnknown", `Unknown target '${name}'`, "Use --target HighAmount or a column name.");
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v!, (counts.get(v!) ?? 0) + 1);
  if (counts.size !== 2) {
    throw userError(
      "TargetNotBinary",
      `Target column '${name}' has ${counts.size} distinct value${counts.size === 1 ? "" : "s"}; a binary classifier needs exactly 2`,
      "Choose a two-valued column such as Anomaly, or the derived HighAmount.",
      `Values: ${[...counts.keys()].slice(0, 10).join(", ")}`,
    );
  }
  const [a, b] = [...counts.entries()].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? 1 : -1));
  const positive = a![0];
  return {
    name,
    y: Uint8Array.from(values, (v) => (v === positive ? 1 : 0)),
    positiveLabel: positive,
    negativeLabel: b![0],
    description: `${name} == ${JSON.stringify(positive)} (the minority value, ${a![1]} of ${values.length} rows)`,
  };
}

/** Linear-interpolation quantile, as numpy's and pandas' default. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export interface NumericStep {
  name: string;
  median: number;
  mean: number;
  scale: number;
}
export interface CategoricalStep {
  name: string;
  mostFrequent: string;
  categories: string[];
}
export interface Preprocessor {
  numeric: NumericStep[];
  categorical: CategoricalStep[];
  /** Output columns, numeric first, then `<input>_<category>` one-hot columns. */
  featureNames: string[];
}

/** Fits imputers, scaler and one-hot categories on the given rows. */
export function fitPreprocessor(inputs: InputColumns, rows: ArrayLike<number>): Preprocessor {
  const numeric = NUMERIC_INPUTS.map((name, j): NumericStep => {
    const column = inputs.numeric[j]!;
    const present: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const v = column[rows[i]!]!;
      if (!Number.isNaN(v)) present.push(v);
    }
    const median = present.length === 0 ? 0 : quantile(present, 0.5);
    let sum = 0;
    for (let i = 0; i < rows.length; i++) sum += imputed(column[rows[i]!]!, median);
    const mean = sum / rows.length;
    let squares = 0;
    for (let i = 0; i < rows.length; i++) squares += (imputed(column[rows[i]!]!, median) - mean) ** 2;
    const std = Math.sqrt(squares / rows.length);
    return { name, median, mean, scale: std > 0 ? std : 1 };
  });
  const categorical = CATEGORICAL_INPUTS.map((name, j): CategoricalStep => {
    const column = inputs.categorical[j]!;
    const counts = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) {
      const v = column[rows[i]!];
      if (v !== null && v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    // Ties go to the smallest value, as scikit-learn's SimpleImputer does.
    const mostFrequent =
      [...counts.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0]?.[0] ?? "missing";
    const categories = [...new Set([...counts.keys(), mostFrequent])].sort();
    return { name, mostFrequent, categories };
  });
  const featureNames = [
    ...numeric.map((s) => s.name),
    ...categorical.flatMap((s) => s.categories.map((c) => `${s.name}_${c}`)),
  ];
  return { numeric, categorical, featureNames };
}

const imputed = (v: number, median: number): number => (Number.isNaN(v) ? median : v);

/** Applies a fitted preprocessor; returns a row-major matrix (rows × featureNames.length). */
export function transformInputs(
  pre: Preprocessor,
  inputs: InputColumns,
  rows?: ArrayLike<number>,
): Float64Array {
  const count = rows ? rows.length : inputs.count;
  const width = pre.featureNames.length;
  const out = new Float64Array(count * width);
  for (let i = 0; i < count; i++) {
    const row = rows ? rows[i]! : i;
    let col = 0;
    pre.numeric.forEach((step, j) => {
      out[i * width + col++] = (imputed(inputs.numeric[j]![row]!, step.median) - step.mean) / step.scale;
    });
    pre.categorical.forEach((step, j) => {
      const value = inputs.categorical[j]![row] ?? step.mostFrequent;
      for (const category of step.categories) out[i * width + col++] = value === category ? 1 : 0;
    });
  }
  return out;
}
