/**
 * Data capture as Azure ML's data collector writes it: JSON lines under the home at
 * modelDataCollector/{endpoint}/{deployment}/{collection}/{yyyy}/{MM}/{dd}/{HH}/{instance}.jsonl,
 * one record a line, a request's records sharing a correlationid.
 *
 * The gateway only queues what a sampled request left (CaptureTap); records are formatted and
 * appended here, every FLUSH_MS, one write per file, so scoring never waits on a disk. Every write holds
 * whole lines only, and a file a crash left with a torn last line is cut back to its last whole line
 * before anything is appended to it, so after `kill -9` every line is whole (a reader also skips an
 * unterminated last line).
 */
import { randomUUID } from "node:crypto";
import {
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import { appendFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type DataCollectorSpec, SECRET_HEADERS } from "../config/index.js";
import type { DeploymentTarget } from "../engine/index.js";
import type { CapturedExchange, CaptureTap, Collector } from "../gateway/index.js";
import { PIER_VERSION, parseJson } from "../shared/index.js";

export const CAPTURE_FOLDER = "modelDataCollector";
/** The collections pier writes itself. */
const COLLECTIONS = ["model_inputs", "model_outputs", "request", "response"] as const;
export type CollectionName = (typeof COLLECTIONS)[number];

const FLUSH_MS = 100;
/** Past this many bytes waiting to be written, new records are dropped (and counted) rather than held. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

/** Counts for /metrics: Azure's DataCollectionEventsPerMinute and DataCollectionErrorsPerMinute. */
export interface CaptureCounts {
  /** Records written, by "endpoint\u0000deployment\u0000collection". */
  readonly written: Map<string, number>;
  /** Records that could not be written (a disk error) or were dropped (the queue was full). */
  errors: number;
  dropped: number;
}

interface Pending {
  target: DeploymentTarget;
  spec: DataCollectorSpec;
  /** The request's sampling draw: a collection writes it when the draw is under its rate. */
  draw: number;
  at: number;
  exchange: CapturedExchange;
}

/** The folder of one time bucket, by the collector's rolling rate. */
export function bucketPath(at: Date, rolling: DataCollectorSpec["rolling_rate"]): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const parts = [String(at.getUTCFullYear()), two(at.getUTCMonth() + 1), two(at.getUTCDate())];
  if (rolling !== "day") parts.push(two(at.getUTCHours()));
  if (rolling === "minute") parts.push(two(at.getUTCMinutes()));
  return parts.join("/");
}

/** A collection's sampling rate: its own, else the collector's. */
const rateOf = (spec: DataCollectorSpec, name: string): number =>
  spec.collections[name]?.enabled ? (spec.collections[name]!.sampling_rate ?? spec.sampling_rate) : 0;

/** JSON text a record can embed: the text itself when it is plain JSON, else re-written (NaN → null). */
function embeddable(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  try {
    return JSON.stringify(parseJson(text).value, (_k, v: unknown) =>
      typeof v === "number" && !Number.isFinite(v) ? null : v,
    );
  } catch {
    return JSON.stringify(text);
  }
}

/** A body as record data: its JSON when it is JSON, else its text. */
function payload(body: Buffer | string, contentType: string | undefined): string {
  const text = typeof body === "string" ? body : body.toString("utf8");
  if (contentType === undefined || contentType.includes("json")) {
    try {
      JSON.parse(text);
      return text;
    } catch {}
  }
  return JSON.stringify(text);
}

/** The header values the collector was told to keep. */
function keptHeaders(
  names: readonly string[],
  headers: CapturedExchange["headers"],
): Record<string, string> | undefined {
  if (names.length === 0) return undefined;
  const kept: Record<string, string> = {};
  for (const name of names) {
    // A key or a session never reaches a file, whatever the YAML lists.
    if (SECRET_HEADERS.test(name)) continue;
    const value = headers[name.toLowerCase()];
    if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return kept;
}

/** One record line, in the field order of Azure's data collector. */
function line(
  p: Pending,
  collection: CollectionName,
  correlationId: string,
  data: string,
  dataType: string,
  extra: string,
): string {
  const { target, exchange } = p;
  const bytes = Buffer.byteLength(data);
  return `{"specversion":"1.0","id":"${randomUUID()}","source":${JSON.stringify(`/endpoints/${target.endpoint}/deployments/${target.name}`)},"type":"azureml.inference.${collection}","datacontenttype":"application/json","time":"${new Date(p.at).toISOString()}","data":${data},"correlationid":"${correlationId}","xrequestid":${JSON.stringify(exchange.correlationId)},"modelversion":${JSON.stringify(String(target.modelVersion))},"collectdatatype":"${dataType}","agent":"pier/${PIER_VERSION}","contentrange":"bytes 0-${Math.max(0, bytes - 1)}/${bytes}"${extra}}\n`;
}

/** The lines one exchange gives, by collection. */
function linesOf(p: Pending): [CollectionName, string][] {
  const { exchange, spec } = p;
  const correlationId = randomUUID();
  const lines: [CollectionName, string][] = [];
  const wanted = (name: CollectionName) => p.draw < rateOf(spec, name);
  if (wanted("model_inputs") && exchange.inputs !== undefined)
    lines.push([
      "model_inputs",
      line(p, "model_inputs", correlationId, embeddable(exchange.inputs), "pandas.core.frame.DataFrame", ""),
    ]);
  if (wanted("model_outputs") && exchange.outputs !== undefined)
    lines.push([
      "model_outputs",
      line(
        p,
        "model_outputs",
        correlationId,
        embeddable(exchange.outputs),
        "pandas.core.frame.DataFrame",
        "",
      ),
    ]);
  if (wanted("request")) {
    const headers = keptHeaders(spec.request_logging?.capture_headers ?? [], exchange.headers);
    lines.push([
      "request",
      line(
        p,
        "request",
        correlationId,
        payload(exchange.body, exchange.contentType),
        "bytes",
        headers ? `,"headers":${JSON.stringify(headers)}` : "",
      ),
    ]);
  }
  if (wanted("response"))
    lines.push([
      "response",
      line(
        p,
        "response",
        correlationId,
        payload(exchange.response, "application/json"),
        "bytes",
        `,"statuscode":${exchange.status}`,
      ),
    ]);
  return lines;
}

/** Cuts a file back to its last whole line (what a crash in the middle of a write can leave). */
export function repairTail(path: string): number {
  if (!existsSync(path)) return 0;
  const size = statSync(path).size;
  if (size === 0) return 0;
  const fd = openSync(path, "r+");
  try {
    const chunk = Buffer.alloc(Math.min(size, 1 << 20));
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      const last = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (last >= 0) {
        const keep = start + last + 1;
        if (keep !== size) ftruncateSync(fd, keep);
        return size - keep;
      }
      end = start;
    }
    ftruncateSync(fd, 0);
    return size;
  } finally {
    closeSync(fd);
  }
}

/** Files written within this long before a start are checked for a torn last line. */
const REPAIR_WINDOW_MS = 2 * 86_400_000;

/** Cuts the torn last line of every capture file written lately (what a `kill -9` of pier can leave). */
function repairRecent(root: string): { files: number; bytes: number } {
  const repaired = { files: 0, bytes: 0 };
  if (!existsSync(root)) return repaired;
  const since = Date.now() - REPAIR_WINDOW_MS;
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".jsonl")) continue;
    const path = join(entry.parentPath, entry.name);
    if (statSync(path).mtimeMs < since) continue;
    const cut = repairTail(path);
    if (cut > 0) {
      repaired.files++;
      repaired.bytes += cut;
    }
  }
  return repaired;
}

/** Days of captured files kept (PIER_CAPTURE_RETENTION_DAYS); older day folders are deleted. */
const RETENTION_DAYS = Number(process.env.PIER_CAPTURE_RETENTION_DAYS ?? "") || 30;

/** Deletes the day folders ({yyyy}/{MM}/{dd}) of every collection older than the retention; returns how many. */
export function pruneCaptured(root: string, now = Date.now(), days = RETENTION_DAYS): number {
  if (!existsSync(root)) return 0;
  const cutoff = now - days * 86_400_000;
  let removed = 0;
  const numbered = (dir: string) =>
    readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && /^\d+$/.test(e.name));
  const subdirs = (dir: string) => readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
  for (const endpoint of subdirs(root))
    for (const deployment of subdirs(join(root, endpoint.name)))
      for (const collection of subdirs(join(root, endpoint.name, deployment.name))) {
        const base = join(root, endpoint.name, deployment.name, collection.name);
        for (const year of numbered(base))
          for (const month of numbered(join(base, year.name)))
            for (const day of numbered(join(base, year.name, month.name))) {
              const end = Date.UTC(Number(year.name), Number(month.name) - 1, Number(day.name)) + 86_400_000;
              if (end > cutoff) continue;
              rmSync(join(base, year.name, month.name, day.name), { recursive: true, force: true });
              removed++;
            }
      }
  return removed;
}

/** Records a deployment could not have written, told once per interval rather than once per record. */
export interface CaptureLoss {
  endpoint: string;
  deployment: string;
  records: number;
  /** The file system's reason, the last one seen in the interval. */
  reason: string;
  /** Over how long, in ms. */
  overMs: number;
}

/** How often losses are told (one log line and one event per deployment at most). */
const LOSS_REPORT_MS = 10_000;

/** Data capture for every deployment whose YAML has a data_collector. */
export class DataCapture {
  readonly counts: CaptureCounts = { written: new Map(), errors: 0, dropped: 0 };
  readonly #root: string;
  readonly #collectors = new WeakMap<DeploymentTarget, Collector | null>();
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  /** Files checked for a torn tail since this process started. */
  readonly #repaired = new Set<string>();
  readonly #onLoss: (loss: CaptureLoss) => void;
  /** Losses since they were last told, by "endpoint\u0000deployment". */
  readonly #losses = new Map<string, { records: number; reason: string; since: number }>();
  #lossTimer: NodeJS.Timeout | undefined;

  constructor(home: string, onLoss: (loss: CaptureLoss) => void = () => {}) {
    this.#root = join(home, CAPTURE_FOLDER);
    this.#onLoss = onLoss;
    this.repaired = repairRecent(this.#root);
    this.#pruned = Date.now();
    pruneCaptured(this.#root);
  }

  #pruned: number;

  /** Lines a crash had torn, cut when this process started (files, bytes). */
  readonly repaired: { files: number; bytes: number };

  /** The gateway's door: a deployment's collector, made once per live generation. */
  readonly tap: CaptureTap = (target) => {
    let collector = this.#collectors.get(target);
    if (collector === undefined) {
      collector = this.#collectorOf(target);
      this.#collectors.set(target, collector);
    }
    return collector ?? undefined;
  };

  #collectorOf(target: DeploymentTarget): Collector | null {
    const spec = target.dataCollector;
    if (!spec) return null;
    const top = Math.max(...COLLECTIONS.map((name) => rateOf(spec, name)));
    if (top <= 0) return null;
    return {
      wantsInputs: rateOf(spec, "model_inputs") > 0,
      sample: () => {
        const draw = Math.random();
        return draw < top ? draw : undefined;
      },
      record: (exchange) => {
        const bytes = exchange.body.length + (exchange.inputs?.length ?? 0) + (exchange.outputs?.length ?? 0);
        if (this.#queuedBytes + bytes > MAX_QUEUED_BYTES) {
          this.counts.dropped++;
          return;
        }
        this.#queuedBytes += bytes;
        this.#queue.push({ target, spec, draw: exchange.draw, at: Date.now(), exchange });
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          void this.flush();
        }, FLUSH_MS).unref();
      },
    };
  }

  /** Writes what is queued; resolves when it is on disk. */
  flush(): Promise<void> {
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#flushing = this.#flushing.then(() => this.#write(queue));
    return this.#flushing;
  }

  async #write(queue: Pending[]): Promise<void> {
    if (queue.length === 0) return;
    if (Date.now() - this.#pruned > 3_600_000) {
      this.#pruned = Date.now();
      try {
        pruneCaptured(this.#root);
      } catch {
        // Old buckets stay until the next hour's pass; nothing captured is lost.
      }
    }
    const files = new Map<string, { text: string; keys: Map<string, number> }>();
    for (const p of queue) {
      const instance = p.exchange.instance.replace(/[^A-Za-z0-9_.-]/g, "_") || "gateway";
      const bucket = bucketPath(new Date(p.at), p.spec.rolling_rate);
      for (const [collection, text] of linesOf(p)) {
        const path = join(
          this.#root,
          p.target.endpoint,
          p.target.name,
          collection,
          bucket,
          `${instance}.jsonl`,
        );
        const file = files.get(path) ?? { text: "", keys: new Map() };
        file.text += text;
        const key = `${p.target.endpoint}\u0000${p.target.name}\u0000${collection}`;
        file.keys.set(key, (file.keys.get(key) ?? 0) + 1);
        files.set(path, file);
      }
    }
    for (const [path, file] of files) {
      try {
        await this.#append(path, file.text);
        for (const [key, n] of file.keys)
          this.counts.written.set(key, (this.counts.written.get(key) ?? 0) + n);
      } catch (error) {
        for (const [key, n] of file.keys) {
          this.counts.errors += n;
          this.#lost(key.split("\u0000").slice(0, 2).join("\u0000"), n, (error as Error).message);
        }
      }
    }
  }

  /** Appends to a capture file; a folder removed or moved meanwhile is made again, and the write tried once more. */
  async #append(path: string, text: string): Promise<void> {
    if (!this.#repaired.has(path)) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      repairTail(path);
      this.#repaired.add(path);
    }
    try {
      await appendFile(path, text, { mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await appendFile(path, text, { mode: 0o600 });
    }
  }

  #lost(key: string, records: number, reason: string): void {
    const loss = this.#losses.get(key) ?? { records: 0, reason, since: Date.now() };
    loss.records += records;
    loss.reason = reason;
    this.#losses.set(key, loss);
    this.#lossTimer ??= setTimeout(() => this.#tellLosses(), LOSS_REPORT_MS).unref();
  }

  #tellLosses(): void {
    this.#lossTimer = undefined;
    const now = Date.now();
    for (const [key, loss] of this.#losses) {
      const [endpoint = "", deployment = ""] = key.split("\u0000");
      this.#onLoss({
        endpoint,
        deployment,
        records: loss.records,
        reason: loss.reason,
        overMs: now - loss.since,
      });
    }
    this.#losses.clear();
  }

  /** Writes what is left; later records are still taken and written by a later flush. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
    clearTimeout(this.#lossTimer);
    this.#tellLosses();
  }
}
