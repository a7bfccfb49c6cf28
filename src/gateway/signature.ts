/**
 * Schema enforcement as MLflow does it: missing required columns are a 400 naming them, extra
 * columns are dropped, numbers widen safely (int → double) and nothing is silently turned into or
 * out of a string.
 */
import { type ColumnSpec, valueFitsColumn } from "../model/index.js";
import { badRequest } from "./http-error.js";

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

/** Returns records holding exactly the signature's columns, in order; throws a 400 otherwise. */
export function enforceColumns(
  records: Record<string, unknown>[],
  columns: readonly ColumnSpec[],
): Record<string, unknown>[] {
  const names = columns.map((c) => String(c.name));
  const sent = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) sent.add(k);
  const missing = columns
    .filter((c) => c.required !== false && !sent.has(String(c.name)))
    .map((c) => String(c.name));
  if (missing.length > 0) {
    const extra = [...sent].filter((k) => !names.includes(k));
    throw badRequest(
      "MissingInputs",
      `Model is missing inputs ${JSON.stringify(missing)}.${extra.length > 0 ? ` Note that there were extra inputs: ${JSON.stringify(extra)}.` : ""}`,
    );
  }
  return records.map((record, row) => {
    const clean: Record<string, unknown> = {};
    for (const column of columns) {
      const name = String(column.name);
      const value = record[name] ?? null;
      if (!valueFitsColumn(value, column.type)) {
        throw badRequest(
          "IncompatibleInputTypes",
          `Incompatible input types for column ${name}. Can not safely convert ${jsonType(value)} to ${column.type} (row ${row}: ${JSON.stringify(value)?.slice(0, 40)}).`,
        );
      }
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
    throw badRequest(
      "SchemaRequired",
      "Rows without column names need a model signature to map them; send named columns instead.",
    );
  return rows.map((row, i) => {
    if (!Array.isArray(row) || row.length !== columns.length) {
      throw badRequest(
        "BadShape",
        `Row ${i} has ${Array.isArray(row) ? row.length : "no"} values; the model takes ${columns.length} (${columns.map((c) => c.name).join(", ")}).`,
      );
    }
    return Object.fromEntries(columns.map((c, j) => [String(c.name), row[j]]));
  });
}
