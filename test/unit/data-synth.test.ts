import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "csv-parse/sync";
import { BANKING_COLUMNS, parseBankingDate, synthesizeBankingRecords } from "../../src/training/index.js";
import { cli, tempDir } from "../helpers.js";

test("pier data synth writes the 40 banking columns in the database's formats", async (t) => {
  const out = join(tempDir(t), "banking.csv");
  const result = await cli(["data", "synth", "--rows", "300", "--seed", "7", "--out", out]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Wrote 300 synthetic rows × 40 columns/);

  const [header, ...rows] = parse(readFileSync(out, "utf8")) as string[][];
  assert.deepEqual(header, [...BANKING_COLUMNS]);
  assert.equal(rows.length, 300);
  const column = (name: string) => rows.map((row) => row[(header as string[]).indexOf(name)]!);
  for (const date of [...column("Transaction Date"), ...column("Date Of Account Opening")]) {
    assert.match(date, /^\d{1,2}\/\d{1,2}\/\d{4}$/);
    assert.ok(parseBankingDate(date) !== undefined, date);
  }
  assert.deepEqual(new Set(column("Gender")), new Set(["Female", "Male", "Other"]));
  assert.deepEqual(new Set(column("Transaction Type")), new Set(["Deposit", "Transfer", "Withdrawal"]));
  assert.deepEqual(new Set(column("Anomaly")), new Set(["1", "-1"]));
  for (const age of column("Age").map(Number)) assert.ok(age >= 18 && age <= 69);
  for (const amount of column("Transaction Amount")) assert.match(amount, /^\d+\.\d{2}$/);
  // Accounts are opened before the transaction happens.
  rows.forEach((row) => {
    assert.ok(parseBankingDate(row[14]!)! >= parseBankingDate(row[11]!)!);
  });
});

test("synthesis is deterministic for a seed and differs across seeds", () => {
  const a = synthesizeBankingRecords({ rows: 50, seed: 42 });
  const b = synthesizeBankingRecords({ rows: 50, seed: 42 });
  const c = synthesizeBankingRecords({ rows: 50, seed: 43 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("pier data synth rejects a bad --rows with a code and a fix", async () => {
  const result = await cli(["data", "synth", "--rows", "ten"]);
  assert.equal(result.code, 2, "a bad option value is a usage error");
  assert.match(result.stderr, /✘ BadOptionValue: --rows must be a whole number/);
  assert.match(result.stderr, /How to fix:/);
});
