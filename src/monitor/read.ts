/**
 * Reading captured data back: the model_inputs and model_outputs records of a deployment within a
 * window, as rows of inputs and columns of predictions. Folders outside the window
 * are never opened; a line that is not whole (a crash mid-write) or not a record is counted, not fatal.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createRandom, type Random } from "../shared/index.js";
import { CAPTURE_FOLDER, type CollectionName } from "./capture.js";

export interface CapturedRows {
  /**
   * One object per scored row: input name → value. A window of more rows than a report keeps
   * (MAX_ROWS) is a uniform sample of them (reservoir sampling), so memory is bounded whatever the
   * volume; `rowsInWindow` says how many there were.
   */
  inputs: Record<string, unknown>[];
  /** Every input row of the window, sampled or not. */
  rowsInWindow: number;
  /**
   * Distinct input rows among those kept: the sample size the drift noise floor counts (a replayed
   * request is not new evidence). Counted exactly up to MAX_ROWS distinct, a lower bound past it.
   */
  distinctRows: number;
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

/** At most this many rows (and as many predictions) are kept for a report: a uniform sample past it. */
const MAX_ROWS = 100_000;

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

/** Calls `each` with every record of a collection in [from, to], newest files first, up to the read budget. */
function eachRecord(
  home: string,
  endpoint: string,
  deployment: string,
  collection: CollectionName,
  from: number,
  to: number,
  counts: { records: number; skipped: number; files: number; truncated: boolean },
  each: (record: CaptureRecord, at: number) => void,
): void {
  const root = join(home, CAPTURE_FOLDER, endpoint, deployment, collection);
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
    let start = 0;
    for (;;) {
      const end = text.indexOf("\n", start);
      // The last piece has no newline after it: empty, or a line a crash cut short.
      if (end < 0) {
        if (start < text.length) counts.skipped++;
        break;
      }
      const line = text.slice(start, end);
      start = end + 1;
      if (!line) continue;
      try {
        const record = JSON.parse(line) as CaptureRecord;
        const at = Date.parse(record.time);
        if (!(at >= from && at <= to)) continue;
        counts.records++;
        each(record, at);
      } catch {
        counts.skipped++;
      }
    }
  }
}

/** What one report reads of a collection at most (a window's newest files first). */
const READ_BUDGET_BYTES = 256 * 2 ** 20;

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

/**
 * Keeps a uniform sample of at most `size` items of a stream (Vitter's algorithm R), seeded so that
 * the same window gives the same report.
 */
class Reservoir<T> {
  readonly items: T[] = [];
  seen = 0;
  readonly #random: Random;
  constructor(
    readonly size: number,
    seed: number,
  ) {
    this.#random = createRandom(seed);
  }
  /** The slot the next item goes to, or -1 when it is not kept. */
  slot(): number {
    this.seen++;
    if (this.items.length < this.size) return this.items.length;
    const j = Math.floor(this.#random.next() * this.seen);
    return j < this.size ? j : -1;
  }
}

/** A deployment's captured inputs and predictions within [from, to], sampled past MAX_ROWS. */
export function readCaptured(
  home: string,
  endpoint: string,
  deployment: string,
  from: number,
  to: number,
  maxRows = MAX_ROWS,
): CapturedRows {
  const counts = { records: 0, skipped: 0, files: 0, truncated: false };
  const inputs = new Reservoir<{ row: Record<string, unknown>; at: number }>(maxRows, 1);
  const distinct = new Set<string>();
  eachRecord(home, endpoint, deployment, "model_inputs", from, to, counts, (record, at) => {
    for (const row of inputRows(record.data)) {
      if (distinct.size < maxRows) distinct.add(JSON.stringify(row));
      const slot = inputs.slot();
      if (slot >= 0) inputs.items[slot] = { row, at };
    }
  });
  const outputsKept = new Reservoir<{ values: Map<string, unknown>; at: number }>(maxRows, 2);
  const names = new Set<string>();
  eachRecord(home, endpoint, deployment, "model_outputs", from, to, counts, (record, at) => {
    const { rows, columns } = outputRows(record.data);
    for (let i = 0; i < rows; i++) {
      const slot = outputsKept.slot();
      if (slot < 0) continue;
      const values = new Map<string, unknown>();
      for (const [name, column] of columns) {
        names.add(name);
        values.set(name, column[i] ?? null);
      }
      outputsKept.items[slot] = { values, at };
    }
  });
  const outputs = new Map<string, unknown[]>();
  for (const name of names)
    outputs.set(
      name,
      outputsKept.items.map((o) => o.values.get(name) ?? null),
    );
  return {
    inputs: inputs.items.map((i) => i.row),
    rowsInWindow: inputs.seen,
    distinctRows: distinct.size,
    times: inputs.items.map((i) => i.at),
    outputs,
    outputTimes: outputsKept.items.map((o) => o.at),
    ...counts,
  };
}
