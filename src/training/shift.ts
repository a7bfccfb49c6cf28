/**
 * Production-like traffic that drifts, for demos and tests: shifts applied to synthetic banking rows
 * (`pier data synth --shift`), and those rows as the model's eight inputs, in scoring requests.
 *
 *   COLUMN+X      add X to a number column          Age+15
 *   COLUMN*X      multiply a number column by X     "Transaction Amount*2"
 *   COLUMN=V:P    set a column to V in a share P    "Transaction Type=Transfer:0.7"
 *   COLUMN=null:P empty a share P of the column     "Account Balance=null:0.2"
 */
import { createRandom, userError } from "../shared/index.js";
import { BANKING_COLUMNS } from "./banking-schema.js";
import { parseCsvTable } from "./csv-table.js";
import { engineerInputs, INPUT_SOURCE_COLUMNS, type ModelInputName, recordAt } from "./features.js";
import type { BankingRecord } from "./synth.js";

export type Shift =
  | { column: string; op: "+" | "*"; by: number }
  | { column: string; op: "="; value: string | null; share: number };

const FIX =
  'Write a shift as COLUMN+X, COLUMN*X or COLUMN=VALUE:SHARE, e.g. --shift Age+15 --shift "Transaction Type=Transfer:0.7"';

export function parseShift(text: string): Shift {
  const set = /^(.+?)=(.*):([0-9.]+)$/.exec(text);
  const scale = /^(.+?)([+*])(-?[0-9.]+(?:e-?\d+)?)$/.exec(text);
  const column = (set ?? scale)?.[1]?.trim();
  if (!column) throw userError("BadArgument", `'${text}' is not a shift`, FIX);
  if (!(BANKING_COLUMNS as readonly string[]).includes(column))
    throw userError(
      "BadArgument",
      `'${column}' is not a column of the banking data`,
      `Use one of: ${BANKING_COLUMNS.join(", ")}`,
    );
  if (set) {
    const share = Number(set[3]);
    if (!(share >= 0 && share <= 1))
      throw userError("BadArgument", `The share in '${text}' must be between 0 and 1`, FIX);
    return { column, op: "=", value: set[2] === "null" ? null : set[2]!, share };
  }
  const by = Number(scale![3]);
  if (!Number.isFinite(by))
    throw userError("BadArgument", `'${scale![3]}' in '${text}' is not a number`, FIX);
  return { column, op: scale![2] as "+" | "*", by };
}

/** The rows with every shift applied (deterministic per seed). */
export function applyShifts(
  records: BankingRecord[],
  shifts: readonly Shift[],
  seed: number,
): BankingRecord[] {
  const random = createRandom(seed ^ 0x5eed);
  return records.map((record) => {
    const shifted: Record<string, string> = { ...record };
    for (const shift of shifts) {
      const current = shifted[shift.column] ?? "";
      if (shift.op === "=") {
        if (random.next() < shift.share) shifted[shift.column] = shift.value ?? "";
        continue;
      }
      const value = Number(current);
      if (current === "" || !Number.isFinite(value))
        throw userError(
          "BadArgument",
          `'${shift.column}' is not a number column; it cannot be shifted by ${shift.op}`,
          FIX,
        );
      const next = shift.op === "+" ? value + shift.by : value * shift.by;
      const decimals = current.includes(".") ? (current.split(".")[1] ?? "").length : 0;
      shifted[shift.column] = next.toFixed(decimals);
    }
    return shifted as BankingRecord;
  });
}

/** The model's eight inputs of each row, as the trained model takes them. */
export function modelInputRows(
  records: readonly BankingRecord[],
): Record<ModelInputName, number | string | null>[] {
  const columns = INPUT_SOURCE_COLUMNS.map((c) => c.name);
  const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const text = [
    columns.map(cell).join(","),
    ...records.map((r) => columns.map((c) => cell(r[c as keyof BankingRecord] ?? "")).join(",")),
  ].join("\n");
  const inputs = engineerInputs(parseCsvTable(text, "synthetic rows", INPUT_SOURCE_COLUMNS));
  return Array.from({ length: inputs.count }, (_, i) => recordAt(inputs, i));
}
