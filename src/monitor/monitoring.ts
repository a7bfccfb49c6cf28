/**
 * Monitoring in `pier up`: data capture for the gateway, requests over time, the signals of a
 * deployment over a window (what `pier monitor` shows), and the alert rules evaluated on a timer,
 * firing and resolving as endpoint events, to a webhook, and on running rollouts.
 */
import type { Engine } from "../engine/index.js";
import type { Rollouts } from "../rollout/index.js";
import { JobThread, type Logger, openPierDatabase, type PierDatabase } from "../shared/index.js";
import {
  ALERT_MIGRATIONS,
  type AlertRecord,
  type AlertRule,
  type AlertSettings,
  AlertStore,
  alertmanagerPayload,
  rulesOf,
  Webhook,
} from "./alerts.js";
import { findBaseline } from "./baselines.js";
import { DataCapture } from "./capture.js";
import { RequestSeries, SERIES_MIGRATIONS } from "./series.js";
import type { DeploymentSignals, SignalJob } from "./signals.js";

export interface MonitorReport {
  endpoint: string;
  generatedAt: string;
  window: { from: string; to: string };
  deployments: DeploymentSignals[];
  /** Live traffic weights, to show blue and green side by side during a rollout. */
  traffic: Record<string, number>;
  alerts: AlertRecord[];
}

export interface MonitoringDeps {
  engine: Engine;
  rollouts: Rollouts;
  logger: Logger;
  settings: AlertSettings;
  /** pier's own URL, for the webhook's externalURL. */
  url: () => string;
}

/** What one evaluation found for a rule on a deployment: firing or not, or unknown (too little data). */
type Finding = { firing: boolean; value: number | null; summary: string } | undefined;

export class Monitoring {
  readonly capture: DataCapture;
  readonly series: RequestSeries;
  readonly alerts: AlertStore;
  readonly rules: AlertRule[];
  readonly webhook: Webhook | undefined;
  readonly #db: PierDatabase;
  #timer: NodeJS.Timeout | undefined;
  #evaluating: Promise<void> | undefined;

  constructor(
    readonly home: string,
    readonly deps: MonitoringDeps,
  ) {
    this.#db = openPierDatabase(home, [...SERIES_MIGRATIONS, ...ALERT_MIGRATIONS]);
    this.series = new RequestSeries(this.#db);
    this.alerts = new AlertStore(this.#db);
    // One line and one event per deployment and interval, whatever the number of records lost.
    this.capture = new DataCapture(home, (loss) => {
      const message = `data capture: ${loss.records} record(s) of ${loss.endpoint}/${loss.deployment} could not be written in the last ${Math.round(loss.overMs / 1000)} s: ${loss.reason}`;
      deps.logger.error(message, {
        endpoint: loss.endpoint,
        deployment: loss.deployment,
        records: loss.records,
      });
      deps.engine.store.addEvent(
        { endpoint: loss.endpoint, deployment: loss.deployment },
        { kind: "CaptureLost", data: { records: loss.records, reason: loss.reason } },
        message.replace(/^data capture: /, "captured data lost: "),
      );
    });
    if (this.capture.repaired.files > 0)
      deps.logger.warn(
        `data capture: cut the torn last line of ${this.capture.repaired.files} file(s) (${this.capture.repaired.bytes} bytes) left by a crash`,
      );
    this.rules = rulesOf(deps.settings);
    this.webhook = deps.settings.webhook
      ? new Webhook(deps.settings.webhook, (message) => deps.logger.warn(message))
      : undefined;
  }

  /** Starts evaluating the alert rules every `evaluate_every`. */
  start(): void {
    const every = this.deps.settings.evaluate_every;
    this.#timer = setInterval(() => {
      this.series.flush();
      this.#evaluating ??= this.evaluate()
        .catch((error: unknown) =>
          this.deps.logger.error(`alert evaluation: ${(error as Error).message}`, {
            stack: (error as Error).stack ?? "",
          }),
        )
        .finally(() => {
          this.#evaluating = undefined;
        });
    }, every).unref();
  }

  /** A deployment's signals over [from, to], measured on the monitoring worker thread. */
  signals(endpoint: string, deployment: string, from: number, to: number): Promise<DeploymentSignals> {
    const { engine } = this.deps;
    const record = engine.store.deployment(endpoint, deployment);
    if (!record) throw new Error(`no deployment ${endpoint}/${deployment}`);
    const collector = record.spec.data_collector;
    let baseline: ReturnType<typeof findBaseline>;
    try {
      baseline = findBaseline(this.home, engine.registry, record.modelName, record.modelVersion);
    } catch (error) {
      this.deps.logger.warn(
        `baseline of ${record.modelName}:${record.modelVersion}: ${(error as Error).message}`,
      );
    }
    return this.#measure({
      home: this.home,
      endpoint,
      deployment,
      model: { name: record.modelName, version: record.modelVersion },
      from,
      to,
      capturing: collector?.collections.model_inputs?.enabled === true,
      baseline,
      traffic: this.series.minutes(endpoint, deployment, from - (from % 60_000)),
    });
  }

  readonly #signals = new JobThread<SignalJob, DeploymentSignals>(
    new URL("./signals-worker.js", import.meta.url),
    "monitoring",
  );

  /** Reading captured files and measuring them takes long on a big window: a worker thread does it. */
  #measure(job: SignalJob): Promise<DeploymentSignals> {
    return this.#signals.run(job);
  }

  /** The endpoint's report: every deployment (or one) over [from, to]. */
  async report(endpoint: string, from: number, to: number, deployment?: string): Promise<MonitorReport> {
    const { engine } = this.deps;
    engine.endpoints.record(endpoint);
    const names = deployment ? [deployment] : engine.store.deployments(endpoint).map((d) => d.name);
    if (deployment) engine.deployments.show(endpoint, deployment);
    // Captured records still queued belong in the window.
    await this.capture.flush();
    return {
      endpoint,
      generatedAt: new Date().toISOString(),
      window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      deployments: await Promise.all(names.map((name) => this.signals(endpoint, name, from, to))),
      traffic: engine.routing.endpoint(endpoint)?.traffic ?? {},
      alerts: this.alerts.list(endpoint, 20),
    };
  }

  /** One pass over every rule and deployment: fires what newly holds, resolves what no longer does. */
  async evaluate(now = Date.now()): Promise<void> {
    const { engine } = this.deps;
    await this.capture.flush();
    const firing = new Map(
      this.alerts.firing().map((a) => [`${a.rule}\u0000${a.endpoint}\u0000${a.deployment}`, a]),
    );
    const seen = new Set<string>();
    for (const { name: endpoint } of engine.store.endpoints()) {
      for (const record of engine.store.deployments(endpoint)) {
        const signals = new Map<number, Promise<DeploymentSignals>>();
        const signalsOver = (window: number) => {
          let s = signals.get(window);
          if (!s) {
            s = this.signals(endpoint, record.name, now - window, now);
            signals.set(window, s);
          }
          return s;
        };
        for (const rule of this.rules) {
          if (
            (rule.endpoint && rule.endpoint !== endpoint) ||
            (rule.deployment && rule.deployment !== record.name)
          )
            continue;
          const key = `${rule.name}\u0000${endpoint}\u0000${record.name}`;
          seen.add(key);
          const finding = await this.#check(rule, endpoint, record.name, now, signalsOver);
          const open = firing.get(key);
          if (!finding) continue;
          if (finding.firing && !open) this.#fire(rule, endpoint, record.name, finding);
          else if (finding.firing && open) this.alerts.update(open.id, finding.value, finding.summary);
          else if (!finding.firing && open) this.#resolve(open, rule, finding.summary);
        }
      }
    }
    // A deployment or rule that is gone resolves its alerts.
    for (const [key, open] of firing)
      if (!seen.has(key))
        this.#resolve(
          open,
          this.rules.find((r) => r.name === open.rule),
          "its deployment or rule no longer exists",
        );
  }

  async #check(
    rule: AlertRule,
    endpoint: string,
    deployment: string,
    now: number,
    signalsOver: (window: number) => Promise<DeploymentSignals>,
  ): Promise<Finding> {
    if (
      rule.signal === "latency_p99_ms" ||
      rule.signal === "latency_p50_ms" ||
      rule.signal === "error_rate"
    ) {
      const minutes = this.series.minutes(endpoint, deployment, now - rule.window);
      const requests = minutes.reduce((s, m) => s + m.requests, 0);
      if (requests < rule.min_requests) return undefined;
      const windowText = `over the last ${Math.round(rule.window / 60_000)} min (${requests} requests)`;
      if (rule.signal === "error_rate") {
        const errors = minutes.reduce((s, m) => s + m.errors, 0);
        const value = errors / requests;
        return {
          firing: value > rule.above!,
          value,
          summary: `${deployment}: error rate ${(value * 100).toFixed(1)} % ${value > rule.above! ? ">" : "≤"} ${(rule.above! * 100).toFixed(1)} % ${windowText}`,
        };
      }
      const field = rule.signal === "latency_p99_ms" ? "p99_ms" : "p50_ms";
      const weighted = minutes.filter((m) => m[field] !== null);
      const served = weighted.reduce((s, m) => s + m.requests, 0);
      if (served === 0) return undefined;
      const value = weighted.reduce((s, m) => s + m[field]! * m.requests, 0) / served;
      return {
        firing: value > rule.above!,
        value,
        summary: `${deployment}: ${field.replace("_ms", "")} latency ${value.toFixed(1)} ms ${value > rule.above! ? ">" : "≤"} ${rule.above} ms ${windowText}`,
      };
    }
    const s = await signalsOver(rule.window);
    if (!s.baseline || s.captured.rows === 0) return undefined;
    if (rule.signal === "data_quality") {
      const violated = s.data_quality.flatMap((q) =>
        q.results.filter((r) => r.violated).map((r) => `${q.name} ${r.metric} ${r.value.toFixed(3)}`),
      );
      return {
        firing: violated.length > 0,
        value: violated.length,
        summary: violated.length
          ? `${deployment}: data quality: ${violated.join(", ")} (${s.captured.rows} rows)`
          : `${deployment}: data quality within the baseline's (${s.captured.rows} rows)`,
      };
    }
    const results = rule.signal === "data_drift" ? s.data_drift : s.prediction_drift;
    if (results.length === 0 || results.every((r) => r.verdict === "insufficient data")) return undefined;
    const verdicts = rule.on === "drift" ? ["drift"] : ["drift", "possible drift"];
    const drifted = results.filter((r) => verdicts.includes(r.verdict));
    const what = rule.signal === "data_drift" ? "data drift" : "prediction drift";
    return {
      firing: drifted.length > 0,
      value: drifted.length,
      summary: drifted.length
        ? `${deployment}: ${what} in ${drifted.map((r) => `${r.name} (${r.metric === "normalized_wasserstein_distance" ? "NWD" : "JSD"} ${r.value.toFixed(3)} > ${r.threshold})`).join(", ")} over ${s.captured.rows} rows (${s.captured.distinct} distinct)`
        : `${deployment}: no ${what} over ${s.captured.rows} rows (${s.captured.distinct} distinct)`,
    };
  }

  #fire(rule: AlertRule, endpoint: string, deployment: string, finding: NonNullable<Finding>): void {
    const alert = this.alerts.fire(rule, endpoint, deployment, finding.value, finding.summary);
    let action = "none";
    if (
      rule.action !== "none" &&
      this.deps.rollouts.act(endpoint, deployment, rule.action, `${rule.name}: ${finding.summary}`)
    )
      action = rule.action;
    this.deps.engine.store.addEvent(
      { endpoint, deployment },
      {
        kind: "AlertFiring",
        data: { alert: alert.id, rule: rule.name, severity: rule.severity, value: finding.value, action },
      },
      `alert ${rule.name} (${rule.severity}) firing: ${finding.summary}${action !== "none" ? `; the rollout is ${action === "hold" ? "held" : "rolled back"}` : ""}`,
    );
    this.webhook?.send(alertmanagerPayload(alert, rule, this.deps.url()));
  }

  #resolve(open: AlertRecord, rule: AlertRule | undefined, summary: string): void {
    const alert = this.alerts.resolve(open.id, summary);
    this.deps.engine.store.addEvent(
      { endpoint: open.endpoint, deployment: open.deployment },
      { kind: "AlertResolved", data: { alert: open.id, rule: open.rule } },
      `alert ${open.rule} resolved: ${summary}`,
    );
    this.webhook?.send(alertmanagerPayload(alert, rule, this.deps.url()));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#evaluating;
    await this.capture.close();
    await this.#signals.close();
    this.series.flush(true);
    this.webhook?.close();
    this.#db.close();
  }
}
