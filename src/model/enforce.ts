/**
 * Schema enforcement as MLflow does it, the one check of a request against a model's columns (the
 * gateway's, and the ONNX scorer's own for models without a signature). First each column is cast to
 * its type as MLflow's scoring server casts a parsed DataFrame (numeric strings become numbers, numbers
 * going into an integer column are truncated); then missing required columns are an error naming them,
 * extra columns are dropped, and a value that is still not of its column's type (a number in a string
 * column) is refused. Errors are user errors: a 400 at the gateway.
 */
import { type PierError, userError } from "../shared/index.js";
import type { ColumnSpec } from "./mlmodel.js";
import { valueFitsColumn } from "./signature.js";

const jsonType = (v: unknown): string =>
  v === null
    ? "null"
    : Array.isArray(v)
      ? "array"
      : typeof v === "number" && Number.isInteger(v)
        ? "int64"
        : typeof v === "number"
          ? "float64"
          : typeof v;

/** A list of names as Python prints it (['a', 'b']), as MLflow's messages show them. */
const pythonList = (names: readonly string[]) =>
  `[${names.map((n) => (n.includes("'") && !n.includes('"') ? `"${n}"` : `'${n.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`)).join(", ")}]`;

/** MLflow's error for inputs a request lacks (mlflow/models/utils.py, _enforce_named_col_schema). */
export function missingInputs(missing: readonly string[], extra: readonly string[], fix: string): PierError {
  return userError(
    "MissingInputs",
    `Model is missing inputs ${pythonList(missing)}.${extra.length > 0 ? ` Note that there were extra inputs: ${pythonList(extra)}.` : ""}`,
    fix,
  );
}

/** Throws MissingInputs when a required column is in none of the records (a key missing from some rows is a missing value). */
function requireColumns(records: readonly Record<string, unknown>[], columns: readonly ColumnSpec[]): void {
  const sent = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) sent.add(k);
  const missing = columns
    .filter((c) => c.required !== false && !sent.has(String(c.name)))
    .map((c) => String(c.name));
  if (missing.length === 0) return;
  const names = columns.map((c) => String(c.name));
  throw missingInputs(
    missing,
    [...sent].filter((k) => !names.includes(k)),
    `Send every input of the signature: ${names.join(", ")}.`,
  );
}

/** The error for a value a column cannot take without an unsafe conversion. */
function incompatibleInput(column: ColumnSpec, value: unknown, row: number): PierError {
  const name = String(column.name);
  return userError(
    "IncompatibleInputTypes",
    `Incompatible input types for column ${name}. Can not safely convert ${jsonType(value)} to ${column.type} (row ${row}: ${JSON.stringify(value)?.slice(0, 40)}).`,
    `Send ${column.type === "string" ? "a string" : `a ${column.type}`} (or null for a missing value) in column '${name}'.`,
  );
}

/** Returns records holding exactly the signature's columns, in order; throws MissingInputs or IncompatibleInputTypes otherwise. */
export function enforceColumns(
  records: Record<string, unknown>[],
  columns: readonly ColumnSpec[],
): Record<string, unknown>[] {
  requireColumns(records, columns);
  return records.map((record, row) => {
    const clean: Record<string, unknown> = {};
    for (const column of columns) {
      const name = String(column.name);
      const value = record[name] ?? null;
      if (!valueFitsColumn(value, column.type)) throw incompatibleInput(column, value, row);
      clean[name] = value;
    }
    return clean;
  });
}

/** pandas' name of each MLflow column type, as MLflow's conversion errors give it. */
const PANDAS_TYPES: Partial<Record<string, string>> = {
  double: "float64",
  float: "float32",
  long: "int64",
  integer: "int32",
};
const FLOAT_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$|^\s*[+-]?(nan|inf|infinity)\s*$/i;
const INT_TEXT = /^\s*[+-]?\d+\s*$/;

/** The value cast to a numeric column's type, or the error pandas would raise (as a message). */
function castNumber(value: unknown, integer: boolean): number | null | { error: string } {
  if (value === null || value === undefined)
    return integer
      ? { error: "IntCastingNaNError('Cannot convert non-finite values (NA or inf) to integer')" }
      : null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") {
    if (!integer) return value;
    return Number.isFinite(value)
      ? Math.trunc(value)
      : { error: "IntCastingNaNError('Cannot convert non-finite values (NA or inf) to integer')" };
  }
  if (typeof value === "string") {
    if (integer && INT_TEXT.test(value)) return Number(value);
    if (!integer && FLOAT_TEXT.test(value)) {
      const text = value.trim().toLowerCase().replace(/^\+/, "");
      return text.endsWith("nan")
        ? Number.NaN
        : text.endsWith("inf") || text.endsWith("infinity")
          ? text.startsWith("-")
            ? Number.NEGATIVE_INFINITY
            : Number.POSITIVE_INFINITY
          : Number(text);
    }
    return {
      error: integer
        ? `ValueError("invalid literal for int() with base 10: '${value}'")`
        : `ValueError("could not convert string to float: '${value}'")`,
    };
  }
  return {
    error: `TypeError("${integer ? "int" : "float"}() argument must be a string or a number, not '${Array.isArray(value) ? "list" : "dict"}'")`,
  };
}

/**
 * Records with every numeric column cast to its type, as MLflow's scoring server does before it
 * enforces the schema (mlflow/utils/proto_json_utils.py, cast_df_types_according_to_schema:
 * `pdf[col_name] = pdf[col_name].astype(col_type, copy=False)`): "1.5" becomes 1.5 in a double
 * column, 2.7 becomes 2 in a long one. A value that cannot be cast is InputConversionFailed.
 */
export function castColumns(
  records: Record<string, unknown>[],
  columns: readonly ColumnSpec[],
): Record<string, unknown>[] {
  const numeric = columns.filter((c) => PANDAS_TYPES[c.type] && records.some((r) => String(c.name) in r));
  if (numeric.length === 0) return records;
  return records.map((record) => {
    const cast = { ...record };
    for (const column of numeric) {
      const name = String(column.name);
      if (!(name in record)) continue;
      const value = castNumber(record[name], column.type === "long" || column.type === "integer");
      if (value !== null && typeof value === "object")
        throw userError(
          "InputConversionFailed",
          `Invalid input. Data is not compatible with model signature. Failed to convert column ${name} to type '${PANDAS_TYPES[column.type]}'. Error: '${value.error}'`,
          `Send ${column.type === "long" || column.type === "integer" ? "integers" : "numbers"} in column '${name}'.`,
        );
      cast[name] = value;
    }
    return cast;
  });
}

/** Maps positional rows ([[…], […]]) onto the signature's column order. */
export function rowsToRecords(
  rows: unknown[][],
  columns: readonly ColumnSpec[] | null,
): Record<string, unknown>[] {
  if (!columns)
    throw userError(
      "SchemaRequired",
      "Rows without column names need a model signature to map them; send named columns instead.",
      "Send records with column names.",
    );
  return rows.map((row, i) => {
    if (!Array.isArray(row) || row.length !== columns.length) {
      throw userError(
        "BadShape",
        `Row ${i} has ${Array.isArray(row) ? row.length : "no"} values; the model takes ${columns.length} (${columns.map((c) => c.name).join(", ")}).`,
        "Send one value per column, in the signature's order.",
      );
    }
    return Object.fromEntries(columns.map((c, j) => [String(c.name), row[j]]));
  });
}
