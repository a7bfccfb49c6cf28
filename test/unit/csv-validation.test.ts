import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "csv-stringify/sync";
import { PierError } from "../../src/shared/index.js";
import {
  BANKING_COLUMNS,
  engineerInputs,
  INPUT_SOURCE_COLUMNS,
  parseCsvTable,
  synthesizeBankingRecords,
} from "../../src/training/index.js";
import { cli, tempDir } from "../helpers.js";

function csvText(
  edit: (rows: Record<string, string>[]) => void,
  columns: readonly string[] = BANKING_COLUMNS,
): string {
  const rows = synthesizeBankingRecords({ rows: 20, seed: 1 }) as Record<string, string>[];
  edit(rows);
  return stringify(rows, { header: true, columns: [...columns] });
}

function loadError(text: string): PierError {
  try {
    parseCsvTable(text, "bank.csv", INPUT_SOURCE_COLUMNS);
  } catch (error) {
    assert.ok(error instanceof PierError, String(error));
    return error;
  }
  assert.fail("expected the CSV to be rejected");
}

test("a missing column is named, with the columns that were found", () => {
  const error = loadError(
    csvText(
      () => {},
      BANKING_COLUMNS.filter((c) => c !== "Transaction Amount"),
    ),
  );
  assert.equal(error.code, "CsvColumnMissing");
  assert.match(error.summary, /'Transaction Amount'/);
  assert.match(error.details.join("\n"), /Columns found \(39\)/);
});

test("an unparsable date names the column and the first bad row", () => {
  const error = loadError(
    csvText((rows) => {
      rows[6]!["Transaction Date"] = "2023-13-45";
      rows[9]!["Transaction Date"] = "yesterday";
    }),
  );
  assert.equal(error.code, "CsvValueInvalid");
  assert.match(error.summary, /Column 'Transaction Date' has "2023-13-45" at row 7 \(line 8 of bank.csv\)/);
});

test("an impossible calendar date is rejected, not rolled over", () => {
  const error = loadError(csvText((rows) => (rows[0]!["Date Of Account Opening"] = "2/30/2023")));
  assert.match(error.summary, /'Date Of Account Opening' has "2\/30\/2023" at row 1/);
});

test("a non-numeric amount names the column and row instead of becoming NaN", () => {
  const error = loadError(csvText((rows) => (rows[2]!["Transaction Amount"] = "12,50")));
  assert.equal(error.code, "CsvValueInvalid");
  assert.match(error.summary, /Column 'Transaction Amount' has "12,50" at row 3/);
  assert.match(error.summary, /not a number/);
});

test("empty cells are missing values for the imputers, not errors", () => {
  const table = parseCsvTable(
    csvText((rows) => {
      rows[4]!.Age = "";
      rows[5]!.Gender = "";
    }),
    "bank.csv",
    INPUT_SOURCE_COLUMNS,
  );
  const inputs = engineerInputs(table);
  assert.ok(Number.isNaN(inputs.numeric[0]![4]!));
  assert.equal(inputs.categorical[1]![5], null);
});

test("features: account age in days, hour, and day of week with Monday = 0", () => {
  const text = csvText((rows) => {
    rows[0]!["Date Of Account Opening"] = "1/1/2023";
    rows[0]!["Transaction Date"] = "1/9/2023"; // a Monday
    rows[1]!["Transaction Date"] = "1/15/2023 14:30"; // a Sunday, with a time
    rows[1]!["Date Of Account Opening"] = "12/31/2022";
  });
  const inputs = engineerInputs(parseCsvTable(text, "bank.csv", INPUT_SOURCE_COLUMNS));
  const [, , , ageDays, hour, dayOfWeek] = inputs.numeric;
  assert.deepEqual([ageDays![0], hour![0], dayOfWeek![0]], [8, 0, 0]);
  assert.deepEqual([ageDays![1], hour![1], dayOfWeek![1]], [15, 14, 6]);
});

test("pier train reports CSV problems with a code, the evidence and a fix", async (t) => {
  const dir = tempDir(t);
  const csv = join(dir, "bad.csv");
  writeFileSync(
    csv,
    csvText((rows) => (rows[11]!.Age = "forty")),
  );
  const result = await cli(["train", "--data", csv, "--out", join(dir, "model")]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /✘ CsvValueInvalid: Column 'Age' has "forty" at row 12/);
  assert.match(result.stderr, /How to fix:/);

  const missing = await cli([
    "train",
    "--data",
    join(dir, "nope.csv"),
    "--out",
    join(dir, "model"),
    "-o",
    "json",
  ]);
  assert.equal(missing.code, 1);
  const body = JSON.parse(missing.stdout) as { error: { code: string; fix: string } };
  assert.equal(body.error.code, "CsvNotFound");
  assert.match(body.error.fix, /pier data synth/);
});
