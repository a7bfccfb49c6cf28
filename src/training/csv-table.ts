/**
 * Loads a CSV into typed columns and validates it at the boundary: a missing column, an unparsable
 * date or a non-numeric value is an error naming the column and the first bad row. Empty cells are
 * "missing" (NaN for numbers and dates, null for strings) and left for the model's imputers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { userError } from "../shared/index.js";
import { parseBankingDate } from "./banking-schema.js";

export type ColumnType = "number" | "date" | "string";

export interface ColumnRequirement {
  name: string;
  type: ColumnType;
  /** When false, an empty cell is an error rather than a missing value. */
  allowMissing?: boolean;
}

export interface CsvTable {
  source: string;
  rowCount: number;
  header: string[];
  /** Numbers and dates (UTC ms) as Float64Array; NaN marks a missing cell. */
  numbers: Map<string, Float64Array>;
  strings: Map<string, (string | null)[]>;
}

const CSV_FIX = "Fix the file, or write a valid one with `pier data synth --out data.csv`.";

function parseRecords(text: string, source: string): string[][] {
  try {
    return parse(text, { bom: true, skip_empty_lines: true, relax_quotes: false }) as string[][];
  } catch (error) {
    const e = error as { message?: string; lines?: number };
    throw userError(
      "CsvMalformed",
      `${source} is not a well-formed CSV${e.lines ? ` (near line ${e.lines})` : ""}`,
      CSV_FIX,
      e.message ?? String(error),
    );
  }
}

/** Parses CSV text and checks the required columns; other columns are kept as strings. */
export function parseCsvTable(
  text: string,
  source: string,
  requirements: readonly ColumnRequirement[],
): CsvTable {
  const records = parseRecords(text, source);
  const header = records[0]?.map((h) => h.trim());
  if (!header || header.length === 0) {
    throw userError("CsvEmpty", `${source} is empty: it has no header row`, CSV_FIX);
  }
  const missing = requirements.filter((r) => !header.includes(r.name)).map((r) => r.name);
  if (missing.length > 0) {
    throw userError(
      "CsvColumnMissing",
      `${source} lacks required column${missing.length > 1 ? "s" : ""} ${missing.map((m) => `'${m}'`).join(", ")}`,
      "Use a Comprehensive Banking Database CSV (40 columns), e.g. one written by `pier data synth --out data.csv`.",
      `Columns found (${header.length}): ${header.join(", ")}`,
    );
  }
  const rows = records.slice(1);
  if (rows.length === 0) {
    throw userError("CsvEmpty", `${source} has a header but no data rows`, CSV_FIX);
  }
  const numbers = new Map<string, Float64Array>();
  const strings = new Map<string, (string | null)[]>();
  for (const requirement of requirements) {
    const index = header.indexOf(requirement.name);
    if (requirement.type === "string") {
      strings.set(
        requirement.name,
        rows.map((row, r) => {
          const cell = (row[index] ?? "").trim();
          if (cell === "" && requirement.allowMissing === false) throw emptyCell(source, requirement.name, r);
          return cell === "" ? null : cell;
        }),
      );
      continue;
    }
    const column = new Float64Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const cell = (rows[r]![index] ?? "").trim();
      if (cell === "") {
        if (requirement.allowMissing === false) throw emptyCell(source, requirement.name, r);
        column[r] = Number.NaN;
        continue;
      }
      const value = requirement.type === "number" ? parseNumber(cell) : parseBankingDate(cell);
      if (value === undefined) {
        const expected = requirement.type === "number" ? "a number" : "a date in M/D/YYYY form";
        throw userError(
          "CsvValueInvalid",
          `Column '${requirement.name}' has ${JSON.stringify(cell)} at row ${r + 1} (line ${r + 2} of ${source}), which is not ${expected}`,
          `Correct or remove that row. An empty cell counts as missing and is imputed.`,
        );
      }
      column[r] = value;
    }
    numbers.set(requirement.name, column);
  }
  return { source, rowCount: rows.length, header, numbers, strings };
}

function emptyCell(source: string, column: string, row: number) {
  return userError(
    "CsvValueMissing",
    `Column '${column}' is empty at row ${row + 1} (line ${row + 2} of ${source}), and it cannot be imputed`,
    "Fill in the value or remove the row.",
  );
}

function parseNumber(cell: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cell)) return undefined;
  const value = Number(cell);
  return Number.isFinite(value) ? value : undefined;
}

/** Reads and parses a CSV file; a missing file is a user error with the path. */
export function loadCsvTable(path: string, requirements: readonly ColumnRequirement[]): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw userError(
      "CsvNotFound",
      code === "EISDIR"
        ? `${path} is a folder, not a CSV file`
        : `Cannot read ${path} (${code ?? "unknown error"})`,
      "Pass the path of a CSV file, or write one with `pier data synth --out data.csv`.",
    );
  }
  return parseCsvTable(text, path, requirements);
}

/** Writes records with the given column order, quoting as RFC 4180 requires. */
export function writeCsv(
  path: string,
  columns: readonly string[],
  records: readonly Record<string, string>[],
): void {
  writeFileSync(
    path,
    stringify(records as Record<string, string>[], { header: true, columns: [...columns] }),
  );
}
