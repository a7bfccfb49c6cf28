/**
 * Alert rules, evaluated by `pier up`: the seed system's thresholds built in (p99 latency over 5000 ms
 * a warning, error rate over 5 % critical) and rules on the monitoring signals (data drift, prediction
 * drift, data quality). An alert fires and resolves as an event on its endpoint, is kept in pier.db,
 * can hold or roll back the running rollout of the deployment it is about, and is sent to an optional
 * webhook in Alertmanager's webhook format (version 4), with retries and a bounded queue.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import type { PierDatabase } from "../shared/index.js";
import { userError } from "../shared/index.js";

const durationSchema = z
  .union([z.number().int().min(1), z.string().regex(/^\d+[smhd]$/, "a duration such as 5m, 1h or 300")])
  .transform((v) => (typeof v === "number" ? v * 1000 : parseDuration(v)));

/** "90s", "5m", "1h", "2d" as milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) throw userError("BadArgument", `'${text}' is not a duration`, "Use e.g. 30m, 24h or 7d.");
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

const SIGNALS = [
  "latency_p99_ms",
  "latency_p50_ms",
  "error_rate",
  "data_drift",
  "prediction_drift",
  "data_quality",
] as const;
export type Signal = (typeof SIGNALS)[number];

const ruleSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, "must be a letter, then letters, digits or _"),
  signal: z.enum(SIGNALS),
  /** Latency and error rate: fires above this. Drift and quality fire on their verdicts. */
  above: z.number().min(0).optional(),
  /** The window the signal is computed over. */
  window: durationSchema.default(300_000),
  /** Latency and error rate need at least this many requests in the window. */
  min_requests: z.number().int().min(1).default(20),
  /** Drift: fire on "drift" only, or on "possible drift" too. */
  on: z.enum(["drift", "possible drift"]).default("drift"),
  severity: z.enum(["info", "warning", "critical"]).default("warning"),
  endpoint: z.string().optional(),
  deployment: z.string().optional(),
  /** What to do to a running rollout whose new deployment the alert is about. */
  action: z.enum(["none", "hold", "rollback"]).default("none"),
  description: z.string().optional(),
});
export type AlertRule = z.infer<typeof ruleSchema>;

const alertFileSchema = z.strictObject({
  /** Replace the built-in rules instead of adding to them. */
  replace_defaults: z.boolean().default(false),
  evaluate_every: durationSchema.default(30_000),
  webhook: z
    .strictObject({
      url: z.string().url(),
      timeout: durationSchema.default(5000),
      max_attempts: z.number().int().min(1).max(20).default(5),
      max_queue: z.number().int().min(1).max(100_000).default(1000),
      headers: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
  rules: z.array(ruleSchema).default([]),
});
export type AlertSettings = z.infer<typeof alertFileSchema>;

/** The built-in rules: the seed's two, and one per monitoring signal. */
const DEFAULT_RULES: AlertRule[] = [
  ruleSchema.parse({
    name: "HighLatency",
    signal: "latency_p99_ms",
    above: 5000,
    severity: "warning",
    description: "p99 latency over 5000 ms (the seed system's threshold)",
  }),
  ruleSchema.parse({
    name: "HighErrorRate",
    signal: "error_rate",
    above: 0.05,
    severity: "critical",
    description: "over 5 % of requests failed with 5xx, 408 or 424 (the seed system's threshold)",
  }),
  ruleSchema.parse({
    name: "DataDrift",
    signal: "data_drift",
    window: "1h",
    description: "a feature's production distribution moved away from the training data",
  }),
  ruleSchema.parse({
    name: "PredictionDrift",
    signal: "prediction_drift",
    window: "1h",
    description: "the model's predictions moved away from those on held-out training rows",
  }),
  ruleSchema.parse({
    name: "DataQuality",
    signal: "data_quality",
    window: "1h",
    description: "more nulls, type errors or out-of-range values than the training data had",
  }),
];

/** The settings of a rules file (or the built-in ones alone). */
export function loadAlertSettings(path: string | undefined): AlertSettings {
  if (!path) return alertFileSchema.parse({});
  let value: unknown;
  try {
    value = parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw userError(
      "BadArgument",
      `Cannot read the alert rules ${path}: ${(error as Error).message.split("\n")[0]}`,
      "Check the path given to pier up --alerts, and its YAML.",
    );
  }
  const result = alertFileSchema.safeParse(value ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw userError(
      "BadArgument",
      `${path} is not a valid alert rules file: ${issue.path.join(".") || "(top level)"}: ${issue.message}`,
      "See the README's Monitoring section for the rules file's keys.",
    );
  }
  const names = new Set<string>();
  for (const rule of result.data.rules) {
    if (names.has(rule.name))
      throw userError(
        "BadArgument",
        `${path}: rule ${rule.name} is defined twice`,
        "Give each rule its own name.",
      );
    names.add(rule.name);
    if ((rule.signal.startsWith("latency") || rule.signal === "error_rate") && rule.above === undefined)
      throw userError(
        "BadArgument",
        `${path}: rule ${rule.name} needs 'above'`,
        `Add above: to rule ${rule.name}.`,
      );
  }
  return result.data;
}

/** The rules in force: the file's, and the built-in ones it does not replace or rename. */
export function rulesOf(settings: AlertSettings): AlertRule[] {
  if (settings.replace_defaults) return settings.rules;
  const own = new Set(settings.rules.map((r) => r.name));
  return [...DEFAULT_RULES.filter((r) => !own.has(r.name)), ...settings.rules];
}

export const ALERT_MIGRATIONS = [
  {
    name: "monitor-alerts-001",
    sql: `
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        deployment TEXT NOT NULL,
        severity TEXT NOT NULL,
        state TEXT NOT NULL,
        value REAL,
        summary TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER
      );
      CREATE INDEX alerts_by_endpoint ON alerts(endpoint, id);
    `,
  },
];

export interface AlertRecord {
  id: number;
  rule: string;
  endpoint: string;
  deployment: string;
  severity: string;
  state: "firing" | "resolved";
  value: number | null;
  summary: string;
  startsAt: string;
  endsAt: string | null;
}

/** An alert as its row in pier.db holds it: times as epoch milliseconds. */
type AlertRow = Omit<AlertRecord, "startsAt" | "endsAt"> & { started_at: number; ended_at: number | null };

const toRecord = (row: AlertRow): AlertRecord => ({
  id: row.id,
  rule: row.rule,
  endpoint: row.endpoint,
  deployment: row.deployment,
  severity: row.severity,
  state: row.state,
  value: row.value,
  summary: row.summary,
  startsAt: new Date(row.started_at).toISOString(),
  endsAt: row.ended_at === null ? null : new Date(row.ended_at).toISOString(),
});

/** Alerts in pier.db: one row per firing, resolved in place. */
export class AlertStore {
  constructor(readonly db: PierDatabase) {}

  firing(): AlertRecord[] {
    return (
      this.db.prepare("SELECT * FROM alerts WHERE state = 'firing' ORDER BY id").all() as AlertRow[]
    ).map(toRecord);
  }

  fire(
    rule: AlertRule,
    endpoint: string,
    deployment: string,
    value: number | null,
    summary: string,
  ): AlertRecord {
    const now = Date.now();
    const id = Number(
      this.db
        .prepare(
          "INSERT INTO alerts (rule, endpoint, deployment, severity, state, value, summary, started_at) VALUES (?, ?, ?, ?, 'firing', ?, ?, ?)",
        )
        .run(rule.name, endpoint, deployment, rule.severity, value, summary, now).lastInsertRowid,
    );
    return toRecord(this.db.prepare("SELECT * FROM alerts WHERE id = ?").get(id) as AlertRow);
  }

  update(id: number, value: number | null, summary: string): void {
    this.db.prepare("UPDATE alerts SET value = ?, summary = ? WHERE id = ?").run(value, summary, id);
  }

  resolve(id: number, summary: string): AlertRecord {
    this.db
      .prepare("UPDATE alerts SET state = 'resolved', summary = ?, ended_at = ? WHERE id = ?")
      .run(summary, Date.now(), id);
    return toRecord(this.db.prepare("SELECT * FROM alerts WHERE id = ?").get(id) as AlertRow);
  }

  /** The newest alerts (an endpoint's, or all), firing ones first. */
  list(endpoint?: string, limit = 100): AlertRecord[] {
    const rows = (
      endpoint
        ? this.db
            .prepare("SELECT * FROM alerts WHERE endpoint = ? ORDER BY id DESC LIMIT ?")
            .all(endpoint, limit)
        : this.db.prepare("SELECT * FROM alerts ORDER BY id DESC LIMIT ?").all(limit)
    ) as AlertRow[];
    return rows
      .map(toRecord)
      .sort((a, b) => (a.state === b.state ? b.id - a.id : a.state === "firing" ? -1 : 1));
  }
}

/** Alertmanager's "zero time": what endsAt says of an alert still firing. */
const ZERO_TIME = "0001-01-01T00:00:00Z";

/** One alert in Alertmanager's webhook payload (version 4). */
export function alertmanagerPayload(
  alert: AlertRecord,
  rule: AlertRule | undefined,
  externalUrl: string,
): Record<string, unknown> {
  const labels = {
    alertname: alert.rule,
    endpoint: alert.endpoint,
    deployment: alert.deployment,
    severity: alert.severity,
  };
  const annotations = {
    summary: alert.summary,
    ...(rule?.description ? { description: rule.description } : {}),
  };
  const fingerprint = createHash("sha256").update(JSON.stringify(labels)).digest("hex").slice(0, 16);
  return {
    version: "4",
    groupKey: `{}:{alertname="${alert.rule}", endpoint="${alert.endpoint}"}`,
    truncatedAlerts: 0,
    status: alert.state,
    receiver: "pier",
    groupLabels: { alertname: alert.rule, endpoint: alert.endpoint },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: externalUrl,
    alerts: [
      {
        status: alert.state,
        labels,
        annotations,
        startsAt: alert.startsAt,
        endsAt: alert.endsAt ?? ZERO_TIME,
        generatorURL: `${externalUrl}/api/endpoints/${encodeURIComponent(alert.endpoint)}/alerts`,
        fingerprint,
      },
    ],
  };
}

export interface WebhookCounts {
  sent: number;
  failed: number;
  dropped: number;
  queued: number;
}

/**
 * Delivers payloads to one URL in order: each is retried with backoff (0.5 s, 1 s, 2 s, … up to
 * max_attempts); past max_queue waiting payloads, the oldest is dropped and counted.
 */
export class Webhook {
  readonly counts: WebhookCounts = { sent: 0, failed: 0, dropped: 0, queued: 0 };
  readonly #queue: Record<string, unknown>[] = [];
  #running = false;
  #closed = false;

  constructor(
    readonly settings: NonNullable<AlertSettings["webhook"]>,
    readonly onError: (message: string) => void,
  ) {}

  send(payload: Record<string, unknown>): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.settings.max_queue) {
      this.#queue.shift();
      this.counts.dropped++;
    }
    this.#queue.push(payload);
    this.counts.queued = this.#queue.length;
    if (!this.#running) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#queue.length > 0 && !this.#closed) {
      const payload = this.#queue[0]!;
      let delivered = false;
      for (let attempt = 1; attempt <= this.settings.max_attempts && !this.#closed; attempt++) {
        try {
          const response = await fetch(this.settings.url, {
            method: "POST",
            headers: { "content-type": "application/json", ...this.settings.headers },
            body: JSON.stringify(payload),
            signal: AbortSignal.timeout(this.settings.timeout),
          });
          await response.arrayBuffer();
          if (response.ok) {
            delivered = true;
            break;
          }
          this.onError(`webhook ${this.settings.url} answered ${response.status} (attempt ${attempt})`);
        } catch (error) {
          this.onError(`webhook ${this.settings.url}: ${(error as Error).message} (attempt ${attempt})`);
        }
        if (attempt < this.settings.max_attempts)
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(30_000, 500 * 2 ** (attempt - 1))).unref(),
          );
      }
      if (this.#queue[0] === payload) this.#queue.shift();
      if (delivered) this.counts.sent++;
      else this.counts.failed++;
      this.counts.queued = this.#queue.length;
    }
    this.#running = false;
  }

  close(): void {
    this.#closed = true;
  }
}
