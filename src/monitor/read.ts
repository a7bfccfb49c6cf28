/**
 * Reading captured data back: the model_inputs and model_outputs records of a deployment within a
 * window, as rows of inputs and columns of predictions. Folders outside the window
 * are never opened; a line that is not whole (a crash mid-write) or not a record is counted, not fatal.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CAPTURE_FOLDER, type CollectionName } from "./capture.js";

export interface CapturedRows {
  /** One object per scored row: input name → value. */
  inputs: Record<string, unknown>[];
  /** The row's time (ms since the epoch), parallel to inputs. */
  times: number[];
  /** Per output column (vectors split by position), one value per row of inputs that had an answer. */
  outputs: Map<string, unknown[]>;
  outputTimes: number[];
  /** Records read and lines skipped (torn or not records). */
  records: number;
  skipped: number;
  /** Files read. */
  files: number;
  /** The window held more than one read takes: its newest files were read. */
  truncated: boolean;
}

interface CaptureRecord {
  time: string;
  data: unknown;
  correlationid: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** The bucket folders ({yyyy}/{MM}/{dd}[/{HH}[/{mm}]]) of a collection that can hold records in [from, to]. */
function bucketFiles(root: string, from: number, to: number): string[] {
  const files: string[] = [];
  const walk = (dir: string, parts: number[]) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isFile()) {
        if (entry.name.endsWith(".jsonl")) files.push(path);
        continue;
      }
      if (!entry.isDirectory() || !/^\d+$/.test(entry.name)) continue;
      const next = [...parts, Number(entry.name)];
      // The span a folder covers: a year, month, day, hour or minute.
      const [y, mo = 1, d = 1, h = 0, mi = 0] = next;
      const start = Date.UTC(y!, mo - 1, d, h, mi);
      const end =
        next.length === 1
          ? Date.UTC(y! + 1, 0, 1)
          : next.length === 2
            ? Date.UTC(y!, mo, 1)
            : next.length === 3
              ? start + 86_400_000
              : next.length === 4
                ? start + 3_600_000
                : start + 60_000;
      if (end <= from || start > to) continue;
      walk(path, next);
    }
  };
  if (existsSync(root)) walk(root, []);
  return files;
}

function readRecords(
  home: string,
  endpoint: string,
  deployment: string,
  collection: CollectionName,
  from: number,
  to: number,
  counts: { records: number; skipped: number; files: number; truncated: boolean },
): CaptureRecord[] {
  const root = join(home, CAPTURE_FOLDER, endpoint, deployment, collection);
  const records: CaptureRecord[] = [];
  // Newest first, up to a budget: a long window of heavy traffic is read as its newest part, not all of it.
  let budget = READ_BUDGET_BYTES;
  for (const file of bucketFiles(root, from, to).sort().reverse()) {
    const size = statSync(file).size;
    if (size > budget && counts.files > 0) {
      counts.truncated = true;
      break;
    }
    budget -= size;
    counts.files++;
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n");
    // The last piece has no newline after it: empty, or a line a crash cut short.
    if (lines.pop() !== "") counts.skipped++;
    for (const line of lines) {
      if (!line) continue;
      try {
        const record = JSON.parse(line) as CaptureRecord;
        const at = Date.parse(record.time);
        if (!(at >= from && at <= to)) continue;
        counts.records++;
        records.push(record);
      } catch {
        counts.skipped++;
      }
    }
  }
  return records;
}

/** What one report reads of a collection at most (a window's newest files first). */
const READ_BUDGET_BYTES = 64 * 2 ** 20;

/** Rows of a model_inputs record's data: row objects, or named columns of equal length. */
function inputRows(data: unknown): Record<string, unknown>[] {
  if (Array.isArray(data)) return data.filter(isRecord);
  if (isRecord(data)) {
    const columns = Object.entries(data).filter(([, v]) => Array.isArray(v)) as [string, unknown[]][];
    const n = Math.max(0, ...columns.map(([, v]) => v.length));
    return Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map(([k, v]) => [k, v[i]])));
  }
  return [];
}

const isV2Output = (v: unknown): v is { name: string; shape: number[]; data: unknown[] } =>
  isRecord(v) && typeof v.name === "string" && Array.isArray(v.shape) && Array.isArray(v.data);

/** At most this many positions of a per-row vector become their own column (probabilities[0], …). */
const MAX_VECTOR = 10;

/** A row's output value as columns: a scalar as itself, a short vector by position. */
function addValue(into: Map<string, unknown[]>, name: string, value: unknown, row: number): void {
  const put = (key: string, v: unknown) => {
    const column = into.get(key) ?? [];
    column[row] = v;
    into.set(key, column);
  };
  if (Array.isArray(value))
    value.slice(0, MAX_VECTOR).forEach((v, i) => {
      put(`${name}[${i}]`, v);
    });
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) put(`${name}[${k}]`, v);
  else put(name, value);
}

/**
 * An answer's outputs per row: records (one object a row), columns ({name: [per row]}), a bare list
 * ("prediction"), each possibly inside MLflow's {"predictions": …}.
 */
export function outputRows(answer: unknown): { rows: number; columns: Map<string, unknown[]> } {
  const columns = new Map<string, unknown[]>();
  if (isRecord(answer) && Object.keys(answer).length === 1 && "predictions" in answer)
    answer = answer.predictions;
  if (Array.isArray(answer) && answer.length > 0 && answer.every(isV2Output)) {
    // The Open Inference Protocol's outputs: flat data in row-major order, rows = shape[0].
    let rows = 0;
    for (const output of answer) {
      const n = Number(output.shape[0] ?? 1);
      const width = n > 0 ? Math.max(1, Math.floor(output.data.length / n)) : 1;
      rows = Math.max(rows, n);
      for (let i = 0; i < n; i++)
        addValue(
          columns,
          output.name,
          width === 1 ? output.data[i] : output.data.slice(i * width, (i + 1) * width),
          i,
        );
    }
    return { rows, columns };
  }
  if (Array.isArray(answer)) {
    answer.forEach((row, i) => {
      if (isRecord(row)) for (const [k, v] of Object.entries(row)) addValue(columns, k, v, i);
      else addValue(columns, "prediction", row, i);
    });
    return { rows: answer.length, columns };
  }
  if (isRecord(answer)) {
    let rows = 0;
    for (const [name, value] of Object.entries(answer)) {
      if (!Array.isArray(value)) continue;
      rows = Math.max(rows, value.length);
      value.forEach((v, i) => {
        addValue(columns, name, v, i);
      });
    }
    return { rows, columns };
  }
  if (answer !== null && answer !== undefined) addValue(columns, "prediction", answer, 0);
  return { rows: answer === null || answer === undefined ? 0 : 1, columns };
}

/** A deployment's captured inputs and predictions within [from, to]. */
export function readCaptured(
  home: string,
  endpoint: string,
  deployment: string,
  from: number,
  to: number,
): CapturedRows {
  const counts = { records: 0, skipped: 0, files: 0, truncated: false };
  const inputs: Record<string, unknown>[] = [];
  const times: number[] = [];
  for (const record of readRecords(home, endpoint, deployment, "model_inputs", from, to, counts)) {
    const at = Date.parse(record.time);
    for (const row of inputRows(record.data)) {
      inputs.push(row);
      times.push(at);
    }
  }
  const outputs = new Map<string, unknown[]>();
  const outputTimes: number[] = [];
  for (const record of readRecords(home, endpoint, deployment, "model_outputs", from, to, counts)) {
    const at = Date.parse(record.time);
    const { rows, columns } = outputRows(record.data);
    const offset = outputTimes.length;
    for (let i = 0; i < rows; i++) outputTimes.push(at);
    for (const [name, values] of columns) {
      const column = outputs.get(name) ?? [];
      column.length = offset;
      for (let i = 0; i < rows; i++) column[offset + i] = values[i] ?? null;
      outputs.set(name, column);
    }
  }
  for (const column of outputs.values()) {
    const from = column.length;
    column.length = outputTimes.length;
    column.fill(null, from);
  }
  return { inputs, times, outputs, outputTimes, ...counts };
}
