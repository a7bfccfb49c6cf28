/**
 * Making a baseline: from columns in memory (`pier train`, from its training split and its held-out
 * predictions), or from a CSV of rows for a model pier did not train (`pier monitor baseline`), typed
 * by the model's signature where it has one.
 */
import { parse } from "csv-parse/sync";
import { userError } from "../shared/index.js";
import {
  BASELINE_SCHEMA,
  type Baseline,
  type ColumnProfile,
  looksNumeric,
  profileValues,
} from "./profile.js";

export type ColumnKind = "number" | "category";

export interface BaselineColumns {
  source: string;
  features: Record<string, { values: readonly unknown[]; kind?: ColumnKind }>;
  predictions?: Record<string, { values: readonly unknown[]; kind?: ColumnKind }>;
}

function profiles(
  columns: BaselineColumns["features"],
  labelsAreCategories: boolean,
): Record<string, ColumnProfile> {
  return Object.fromEntries(
    Object.entries(columns).map(([name, { values, kind }]) => [
      name,
      profileValues(values, kind ?? (looksNumeric(values, labelsAreCategories) ? "number" : "category")),
    ]),
  );
}

export function baselineOf(columns: BaselineColumns): Baseline {
  const rows = Math.max(0, ...Object.values(columns.features).map((c) => c.values.length));
  return {
    schema: BASELINE_SCHEMA,
    createdAt: new Date().toISOString(),
    source: columns.source,
    rows,
    features: profiles(columns.features, false),
    predictions: profiles(columns.predictions ?? {}, true),
  };
}

/**
 * A baseline of a CSV's columns: `kinds` names the model's inputs and their kinds (from its
 * signature); without them every column is profiled. `predictionColumns` are profiled as predictions.
 */
export function baselineOfCsv(
  text: string,
  source: string,
  kinds: Record<string, ColumnKind> | undefined,
  predictionColumns: readonly string[] = [],
): Baseline {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true }) as string[][];
  } catch (error) {
    throw userError(
      "CsvMalformed",
      `${source} is not a well-formed CSV: ${(error as Error).message}`,
      "Fix the file.",
    );
  }
  const header = records.shift();
  if (!header || records.length === 0)
    throw userError(
      "BadArgument",
      `${source} has no rows`,
      "Give a CSV with a header line and rows of data.",
    );
  const wanted = kinds ? Object.keys(kinds) : header.filter((h) => !predictionColumns.includes(h));
  const missing = [...wanted, ...predictionColumns].filter((c) => !header.includes(c));
  if (missing.length > 0)
    throw userError(
      "BadArgument",
      `${source} has no column ${missing.map((m) => `'${m}'`).join(", ")}${kinds ? " (an input of the model)" : ""}`,
      `Give a CSV whose header names the model's inputs: ${wanted.join(", ")}`,
    );
  const column = (name: string): unknown[] => {
    const i = header.indexOf(name);
    const raw = records.map((r) => r[i] ?? "");
    const numeric =
      kinds?.[name] === "number" ||
      (!kinds?.[name] && raw.every((v) => v === "" || Number.isFinite(Number(v))));
    return raw.map((v) => (v === "" ? null : numeric && Number.isFinite(Number(v)) ? Number(v) : v));
  };
  return baselineOf({
    source,
    features: Object.fromEntries(
      wanted.map((name) => [name, { values: column(name), ...(kinds?.[name] ? { kind: kinds[name] } : {}) }]),
    ),
    predictions: Object.fromEntries(predictionColumns.map((name) => [name, { values: column(name) }])),
  });
}
