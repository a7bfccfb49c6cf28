import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { type MonitorReport, reportHtml } from "../../monitor/index.js";
import { choiceOption, defineCommand } from "../command.js";
import { connect, endpointArgument, endpointNameOption } from "./api-common.js";

/** The report, with what --fail-on found (empty without it) and the HTML file written. */
type Shown = MonitorReport & { html?: string; failing: string[] };

const FAIL_ON = ["drift", "quality", "any"] as const;

/** What --fail-on asks about that the report shows: one line per deployment and kind. */
function failingOf(report: MonitorReport, failOn: ReadonlySet<(typeof FAIL_ON)[number]>): string[] {
  const lines: string[] = [];
  const wants = (kind: "drift" | "quality") => failOn.has(kind) || failOn.has("any");
  for (const d of report.deployments) {
    if (wants("drift") && d.summary.verdict === "drift")
      lines.push(`${d.deployment} drifts (${d.summary.drift.join(", ")})`);
    const violated = d.data_quality.flatMap((q) =>
      q.results.filter((r) => r.violated).map((r) => `${q.name} ${r.metric}`),
    );
    if (wants("quality") && violated.length)
      lines.push(`${d.deployment} violates data quality (${violated.join(", ")})`);
  }
  return lines;
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

export const monitorShow = defineCommand({
  path: ["monitor"],
  summary:
    "Drift, prediction drift and data quality of an endpoint's captured traffic against the training data, per deployment",
  options: {
    ...endpointNameOption,
    "deployment-name": {
      type: "string",
      short: "n",
      valueName: "NAME",
      description: "one deployment (default: every deployment, side by side)",
    },
    since: {
      type: "string",
      valueName: "WHEN",
      description: "start of the window: a duration back from now (30m, 24h, 7d) or a date (default 24h)",
    },
    until: { type: "string", valueName: "WHEN", description: "end of the window (default now)" },
    html: {
      type: "string",
      valueName: "FILE.html",
      description: "also write a self-contained report with plots",
    },
    "fail-on": {
      type: "string",
      valueName: "drift|quality|any",
      description:
        "exit 1 when a deployment shows it (drift, a data quality violation, or either): for scripts",
      multiple: true,
    },
  },
  examples: [
    "pier monitor -e fin-behavior",
    "pier monitor -e fin-behavior -n green --since 1h -o json",
    "pier monitor -e fin-behavior --html report.html",
    "pier monitor -e fin-behavior --since 1h --fail-on drift --fail-on quality",
  ],
  async handler(args, ctx) {
    const endpoint = endpointArgument(args, "pier monitor -e fin-behavior");
    const failOn = new Set((args.options["fail-on"] ?? []).map((v) => choiceOption(v, "fail-on", FAIL_ON)!));
    const report = await connect(ctx).call("monitor.report", {
      endpoint,
      query: {
        deployment: args.options["deployment-name"],
        since: args.options.since,
        until: args.options.until,
      },
    });
    const failing = failingOf(report, failOn);
    if (!args.options.html) return { ...report, failing } as Shown;
    const path = resolve(ctx.cwd, args.options.html);
    writeFileSync(path, reportHtml(report));
    return { ...report, failing, html: path } as Shown;
  },
  render(report, ctx) {
    ctx.out(
      `Monitoring ${report.endpoint}: ${report.window.from.slice(0, 16).replace("T", " ")} – ${report.window.to.slice(0, 16).replace("T", " ")} UTC`,
    );
    for (const d of report.deployments) {
      const weight = report.traffic[d.deployment];
      ctx.out("");
      ctx.out(
        `${d.deployment} (${d.model.name}:${d.model.version}${weight !== undefined ? `, ${weight} % of traffic` : ""}): ${d.summary.verdict.toUpperCase()}`,
      );
      ctx.out(
        `  ${d.captured.rows} rows captured (${d.captured.distinct} distinct${d.captured.sampled < d.captured.rows ? `; signals on a uniform sample of ${d.captured.sampled}` : ""})${d.captured.skipped ? ` (${d.captured.skipped} torn lines skipped)` : ""}; baseline ${d.baseline ? `${d.baseline.rows} rows of ${d.baseline.source}` : "none"}`,
      );
      if (!d.capturing)
        ctx.out(
          "  ⚠ no model inputs are captured: add data_collector.collections.model_inputs (and model_outputs) to the deployment YAML",
        );
      if (!d.baseline)
        ctx.out(
          `  ⚠ no baseline: pier monitor baseline --model models:/${d.model.name}/${d.model.version} --data training.csv`,
        );
      const rows = [
        ...d.data_drift.map((x) => ({ ...x, kind: "feature" })),
        ...d.prediction_drift.map((x) => ({ ...x, kind: "output" })),
      ];
      if (rows.length) {
        const width = Math.max(...rows.map((r) => r.name.length), 7);
        ctx.out(`  ${"signal".padEnd(width + 9)} metric   value  thresh   PSI    rows  verdict`);
        for (const r of rows) {
          const mark =
            r.verdict === "drift"
              ? "✘"
              : r.verdict === "possible drift"
                ? "?"
                : r.verdict === "no drift"
                  ? "✔"
                  : "…";
          ctx.out(
            `  ${mark} ${r.kind.padEnd(7)} ${r.name.padEnd(width)} ${r.metric === "normalized_wasserstein_distance" ? "NWD" : "JSD"}  ${r.value.toFixed(3).padStart(7)} ${String(r.threshold).padStart(6)} ${r.population_stability_index.toFixed(3).padStart(6)} ${String(r.rows).padStart(6)}  ${r.verdict}`,
          );
        }
      }
      for (const q of d.data_quality)
        for (const r of q.results.filter((x) => x.violated))
          ctx.out(
            `  ✘ quality ${q.name}: ${r.metric} ${pct(r.value)} (baseline ${pct(r.baseline)}; ${r.count} of ${r.rows})`,
          );
      const minutes = d.traffic;
      if (minutes.length) {
        const requests = minutes.reduce((s, m) => s + m.requests, 0);
        const errors = minutes.reduce((s, m) => s + m.errors, 0);
        const p99 = Math.max(...minutes.map((m) => m.p99_ms ?? 0));
        ctx.out(
          `  traffic: ${requests} requests, ${errors} failed (${pct(errors / Math.max(1, requests))}), worst minute p99 ${p99.toFixed(1)} ms`,
        );
      }
    }
    const firing = report.alerts.filter((a) => a.state === "firing");
    if (firing.length) {
      ctx.out("");
      for (const a of firing)
        ctx.out(`🔔 ${a.rule} (${a.severity}) since ${a.startsAt.slice(0, 19)}: ${a.summary}`);
    }
    if (report.html) ctx.out(`\nReport written to ${report.html}`);
    if (report.failing.length) ctx.err(`✘ --fail-on: ${report.failing.join("; ")}\n`);
  },
  exitCode: (report) => (report.failing.length ? 1 : 0),
});
