/**
 * Schema enforcement as MLflow does it, the one check of a request against a model's columns (the
 * gateway's, and the ONNX scorer's own for models without a signature): missing required columns are
 * an error naming them, extra columns are dropped, numbers widen safely (int → double) and nothing is
 * silently turned into or out of a string. Errors are user errors: a 400 at the gateway.
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

/** Throws MissingInputs when a required column is in none of the records (a key missing from some rows is a missing value). */
export function requireColumns(
  records: readonly Record<string, unknown>[],
  columns: readonly ColumnSpec[],
): void {
  const sent = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) sent.add(k);
  const missing = columns
    .filter((c) => c.required !== false && !sent.has(String(c.name)))
    .map((c) => String(c.name));
  if (missing.length === 0) return;
  const names = columns.map((c) => String(c.name));
  const extra = [...sent].filter((k) => !names.includes(k));
  throw userError(
    "MissingInputs",
    `Model is missing inputs ${JSON.stringify(missing)}.${extra.length > 0 ? ` Note that there were extra inputs: ${JSON.stringify(extra)}.` : ""}`,
    `Send every input of the signature: ${names.join(", ")}.`,
  );
}

/** The error for a value a column cannot take without an unsafe conversion. */
export function incompatibleInput(column: ColumnSpec, value: unknown, row: number): PierError {
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
