/**
 * The monitoring report as one self-contained HTML page (no scripts, no external files): a verdict
 * per deployment, side by side during a rollout; drift and quality tables with each value beside its
 * threshold; each feature's histogram, baseline against production; drift per feature over time; and
 * requests, errors and latency per minute. Plots are inline SVG.
 */
import { escapeHtml } from "../shared/index.js";
import type { Verdict } from "./drift.js";
import type { MonitorReport } from "./monitoring.js";
import type { DeploymentSignals, Histogram } from "./signals.js";

const esc = escapeHtml;

const PALETTE = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];
const BASELINE_COLOR = "#94a3b8";
const PRODUCTION_COLOR = "#2563eb";

const fmt = (v: number | null | undefined, digits = 3) =>
  v === null || v === undefined || Number.isNaN(v)
    ? "–"
    : Math.abs(v) >= 1000
      ? v.toFixed(0)
      : v.toFixed(digits);

function badge(verdict: Verdict | "no baseline" | "no data" | "violated" | "ok"): string {
  const tone =
    verdict === "drift" || verdict === "violated"
      ? "bad"
      : verdict === "possible drift"
        ? "warn"
        : verdict === "no drift" || verdict === "ok"
          ? "good"
          : "muted";
  return `<span class="badge ${tone}">${esc(verdict)}</span>`;
}

/** A short label for an axis value. */
const tick = (v: number) =>
  Math.abs(v) >= 10_000
    ? `${(v / 1000).toFixed(0)}k`
    : Math.abs(v) >= 100
      ? v.toFixed(0)
      : Math.abs(v) >= 1
        ? v.toFixed(1)
        : v.toFixed(2);

function histogramSvg(h: Histogram): string {
  const W = 300;
  const H = 120;
  const top = 8;
  const bottom = 22;
  const plotH = H - top - bottom;
  const n = h.type === "number" ? h.baseline.length : h.categories.length;
  const max = Math.max(0.0001, ...h.baseline, ...h.production);
  const slot = (W - 10) / Math.max(1, n);
  const bars: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = 5 + i * slot;
    const bw = h.type === "number" ? slot : slot / 2 - 1;
    const b = (h.baseline[i]! / max) * plotH;
    const p = (h.production[i]! / max) * plotH;
    if (h.type === "number") {
      bars.push(
        `<rect x="${x.toFixed(1)}" y="${(top + plotH - b).toFixed(1)}" width="${Math.max(0.5, bw - 0.5).toFixed(1)}" height="${b.toFixed(1)}" fill="${BASELINE_COLOR}" opacity="0.75"/>`,
      );
      bars.push(
        `<rect x="${(x + bw * 0.2).toFixed(1)}" y="${(top + plotH - p).toFixed(1)}" width="${Math.max(0.5, bw * 0.6).toFixed(1)}" height="${p.toFixed(1)}" fill="${PRODUCTION_COLOR}" opacity="0.8"/>`,
      );
    } else {
      bars.push(
        `<rect x="${x.toFixed(1)}" y="${(top + plotH - b).toFixed(1)}" width="${bw.toFixed(1)}" height="${b.toFixed(1)}" fill="${BASELINE_COLOR}"/>`,
      );
      bars.push(
        `<rect x="${(x + bw + 1).toFixed(1)}" y="${(top + plotH - p).toFixed(1)}" width="${bw.toFixed(1)}" height="${p.toFixed(1)}" fill="${PRODUCTION_COLOR}"/>`,
      );
      const label = h.categories[i]!.length > 10 ? `${h.categories[i]!.slice(0, 9)}…` : h.categories[i]!;
      if (n <= 8)
        bars.push(
          `<text x="${(x + slot / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle" class="axis">${esc(label)}</text>`,
        );
    }
  }
  if (h.type === "number")
    bars.push(
      `<text x="5" y="${H - 8}" class="axis">${tick(h.edges[0]!)}</text><text x="${W - 5}" y="${H - 8}" text-anchor="end" class="axis">${tick(h.edges[h.edges.length - 1]!)}</text>`,
    );
  return `<svg viewBox="0 0 ${W} ${H}" class="plot" role="img"><line x1="5" x2="${W - 5}" y1="${top + plotH}" y2="${top + plotH}" stroke="#cbd5e1"/>${bars.join("")}</svg>`;
}

interface Series {
  name: string;
  values: (number | null)[];
  color: string;
  dashed?: boolean;
}

function lineSvg(
  xs: string[],
  series: Series[],
  options: { threshold?: number; unit?: string } = {},
): string {
  const W = 620;
  const H = 170;
  const left = 44;
  const right = 10;
  const top = 10;
  const bottom = 24;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  if (xs.length === 0 || all.length === 0) return `<p class="muted">No data in this window.</p>`;
  const max = Math.max(...all, options.threshold ?? 0) * 1.1 || 1;
  const x = (i: number) =>
    left + (xs.length === 1 ? (W - left - right) / 2 : (i * (W - left - right)) / (xs.length - 1));
  const y = (v: number) => top + (H - top - bottom) * (1 - v / max);
  const parts: string[] = [];
  for (const frac of [0, 0.5, 1]) {
    const v = max * frac;
    parts.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e2e8f0"/><text x="${left - 4}" y="${(y(v) + 3).toFixed(1)}" text-anchor="end" class="axis">${tick(v)}${options.unit ?? ""}</text>`,
    );
  }
  if (options.threshold !== undefined)
    parts.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(options.threshold).toFixed(1)}" y2="${y(options.threshold).toFixed(1)}" stroke="#dc2626" stroke-dasharray="4 3"/><text x="${W - right}" y="${(y(options.threshold) - 3).toFixed(1)}" text-anchor="end" class="axis threshold">threshold ${options.threshold}</text>`,
    );
  for (const s of series) {
    let path = "";
    s.values.forEach((v, i) => {
      if (v === null) return;
      path += `${path && s.values[i - 1] !== null ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    });
    parts.push(
      `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`,
    );
    s.values.forEach((v, i) => {
      if (v !== null && xs.length <= 60)
        parts.push(
          `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${s.color}"><title>${esc(s.name)} ${xs[i]}: ${fmt(v)}</title></circle>`,
        );
    });
  }
  const label = (i: number) => esc(xs[i]!.slice(11, 16));
  parts.push(`<text x="${left}" y="${H - 6}" class="axis">${label(0)}</text>`);
  if (xs.length > 1)
    parts.push(
      `<text x="${W - right}" y="${H - 6}" text-anchor="end" class="axis">${label(xs.length - 1)} UTC</text>`,
    );
  const legend = series
    .map((s) => `<span class="key"><i style="background:${s.color}"></i>${esc(s.name)}</span>`)
    .join("");
  return `<svg viewBox="0 0 ${W} ${H}" class="plot wide" role="img">${parts.join("")}</svg><div class="legend">${legend}</div>`;
}

function driftTable(rows: DeploymentSignals["data_drift"], what: string): string {
  if (rows.length === 0) return `<p class="muted">No ${what} in the baseline.</p>`;
  const body = rows
    .map(
      (
        d,
      ) => `<tr><td>${esc(d.name)}</td><td>${d.type}</td><td>${d.metric === "normalized_wasserstein_distance" ? "normalized Wasserstein" : "Jensen–Shannon"}</td>
<td class="num ${d.rows > 0 && d.value > d.threshold ? "over" : ""}">${d.rows > 0 ? fmt(d.value) : "–"}</td><td class="num">${d.threshold}</td><td class="num">${d.rows > 0 ? fmt(d.population_stability_index) : "–"}</td><td class="num">${d.rows}</td><td>${badge(d.verdict)}</td></tr>`,
    )
    .join("");
  return `<table><thead><tr><th>${what}</th><th>type</th><th>metric</th><th class="num">value</th><th class="num">threshold</th><th class="num">PSI</th><th class="num">rows</th><th>verdict</th></tr></thead><tbody>${body}</tbody></table>`;
}

function qualityTable(rows: DeploymentSignals["data_quality"]): string {
  if (rows.length === 0) return "";
  const cell = (r: DeploymentSignals["data_quality"][number]["results"][number] | undefined) =>
    r && r.rows === 0
      ? `<td class="num" title="no rows in this window">–</td>`
      : r
        ? `<td class="num ${r.violated ? "over" : ""}" title="baseline ${fmt(r.baseline, 4)}, ${r.count} of ${r.rows}">${(r.value * 100).toFixed(2)} %</td>`
        : "<td></td>";
  const body = rows
    .map((q) => {
      const by = Object.fromEntries(q.results.map((r) => [r.metric, r]));
      const violated = q.results.some((r) => r.violated);
      return `<tr><td>${esc(q.name)}</td>${cell(by.null_value_rate)}${cell(by.data_type_error_rate)}${cell(by.out_of_bounds_rate)}<td>${badge(violated ? "violated" : "ok")}</td></tr>`;
    })
    .join("");
  return `<table><thead><tr><th>feature</th><th class="num">null values</th><th class="num">type errors</th><th class="num">out of bounds</th><th>verdict</th></tr></thead><tbody>${body}</tbody></table>`;
}

function deploymentSection(d: DeploymentSignals, weight: number | undefined): string {
  const header = `<header><h2>${esc(d.deployment)} <small>${esc(d.model.name)}:${d.model.version}${weight !== undefined ? ` · ${weight} % of traffic` : ""}</small></h2>${badge(d.summary.verdict)}</header>`;
  const facts = `<p class="facts">${d.captured.rows.toLocaleString("en")} rows captured in ${d.captured.records.toLocaleString("en")} records (${d.captured.distinct.toLocaleString("en")} distinct${d.captured.sampled < d.captured.rows ? `; signals on a uniform sample of ${d.captured.sampled.toLocaleString("en")}` : ""})${d.captured.skipped ? ` (${d.captured.skipped} torn or unreadable lines skipped)` : ""}${d.captured.truncated ? " (the window's newest 256 MiB per collection)" : ""}; baseline: ${d.baseline ? `${d.baseline.rows.toLocaleString("en")} rows of ${esc(d.baseline.source)} (${esc(d.baseline.origin)})` : "none"}.</p>`;
  const notes: string[] = [];
  if (!d.capturing)
    notes.push(
      `This deployment captures no model inputs: add <code>data_collector: {collections: {model_inputs: {enabled: 'True'}, model_outputs: {enabled: 'True'}}}</code> to its YAML.`,
    );
  if (!d.baseline)
    notes.push(
      `Its model has no baseline: make one with <code>pier monitor baseline --model models:/${esc(d.model.name)}/${d.model.version} --data training.csv</code>.`,
    );
  const summary =
    d.summary.drift.length || d.summary.possible.length || d.summary.quality.length
      ? `<ul class="summary">${d.summary.drift.length ? `<li><b>Drift</b> in ${d.summary.drift.map(esc).join(", ")}</li>` : ""}${d.summary.possible.length ? `<li><b>Possible drift</b> in ${d.summary.possible.map(esc).join(", ")}</li>` : ""}${d.summary.quality.length ? `<li><b>Data quality</b> out of line in ${d.summary.quality.map(esc).join(", ")}</li>` : ""}</ul>`
      : "";
  const histograms = Object.entries(d.histograms)
    .map(([name, h]) => {
      const drift = [...d.data_drift, ...d.prediction_drift].find(
        (x) => x.name === name.replace(/^prediction: /, ""),
      );
      return `<figure><figcaption>${esc(name)} ${drift ? badge(drift.verdict) : ""}</figcaption>${histogramSvg(h)}</figure>`;
    })
    .join("");
  const overTime = lineSvg(
    d.drift_over_time.slots,
    Object.entries(d.drift_over_time.values).map(([name, values], i) => ({
      name,
      values,
      color: PALETTE[i % PALETTE.length]!,
    })),
    { threshold: 0.1 },
  );
  const minutes = d.traffic.map((m) => new Date(m.minute).toISOString());
  const traffic = lineSvg(minutes, [
    { name: "requests / min", values: d.traffic.map((m) => m.requests), color: "#2563eb" },
    { name: "errors / min (5xx, 408, 424)", values: d.traffic.map((m) => m.errors), color: "#dc2626" },
  ]);
  const latency = lineSvg(
    minutes,
    [
      { name: "p50", values: d.traffic.map((m) => m.p50_ms), color: "#059669" },
      { name: "p90", values: d.traffic.map((m) => m.p90_ms), color: "#d97706" },
      { name: "p99", values: d.traffic.map((m) => m.p99_ms), color: "#7c3aed", dashed: true },
    ],
    { unit: " ms" },
  );
  return `<section class="deployment">${header}${facts}${notes.map((n) => `<p class="note">${n}</p>`).join("")}${summary}
<h3>Data drift</h3>${driftTable(d.data_drift, "feature")}
<h3>Prediction drift</h3>${driftTable(d.prediction_drift, "output")}
<h3>Data quality</h3>${qualityTable(d.data_quality) || '<p class="muted">No baseline to compare with.</p>'}
<h3>Distributions <span class="legend inline"><span class="key"><i style="background:${BASELINE_COLOR}"></i>baseline</span><span class="key"><i style="background:${PRODUCTION_COLOR}"></i>production</span></span></h3><div class="grid">${histograms || '<p class="muted">Nothing to plot yet.</p>'}</div>
<h3>Drift over time</h3>${overTime}
<h3>Requests and errors per minute</h3>${traffic}
<h3>Latency per minute</h3>${latency}</section>`;
}

const STYLE = `
:root{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#0f172a;background:#f8fafc}
body{margin:0;padding:24px 32px}h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0}h2 small{font-weight:400;color:#64748b;font-size:13px}
h3{font-size:14px;margin:22px 0 8px;color:#334155;text-transform:uppercase;letter-spacing:.04em}
.sub{color:#64748b;margin:0 0 18px}.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(620px,1fr));gap:20px}
.deployment{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:18px 20px}
.deployment header{display:flex;justify-content:space-between;align-items:center;gap:12px}
.facts{color:#475569;font-size:13px}.note{background:#fffbeb;border:1px solid #fde68a;padding:8px 10px;border-radius:6px;font-size:13px}
.summary{margin:8px 0;padding-left:18px;font-size:14px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #f1f5f9}
th{color:#64748b;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}.over{color:#b91c1c;font-weight:600}
.badge{display:inline-block;padding:2px 9px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.bad{background:#fee2e2;color:#991b1b}.badge.warn{background:#fef3c7;color:#92400e}.badge.good{background:#dcfce7;color:#166534}.badge.muted{background:#f1f5f9;color:#475569}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}
figure{margin:0;border:1px solid #f1f5f9;border-radius:6px;padding:6px}figcaption{font-size:12px;display:flex;justify-content:space-between;gap:6px;align-items:center}
.plot{width:100%;height:auto;display:block}.plot.wide{max-width:820px}.axis{font-size:10px;fill:#64748b}.threshold{fill:#dc2626}
.legend{font-size:12px;color:#475569;display:flex;gap:14px;flex-wrap:wrap}.legend.inline{display:inline-flex;text-transform:none;letter-spacing:0;font-weight:400;margin-left:8px}
.key i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.muted{color:#94a3b8;font-size:13px}code{background:#f1f5f9;padding:1px 4px;border-radius:4px;font-size:12px}
.alerts td:first-child{white-space:nowrap}`;

export function reportHtml(report: MonitorReport): string {
  const alerts = report.alerts.length
    ? `<h3>Alerts</h3><table class="alerts"><thead><tr><th>state</th><th>rule</th><th>deployment</th><th>since</th><th>summary</th></tr></thead><tbody>${report.alerts
        .map(
          (a) =>
            `<tr><td>${badge(a.state === "firing" ? "violated" : "ok").replace(/violated|ok/, a.state)}</td><td>${esc(a.rule)} <small>${esc(a.severity)}</small></td><td>${esc(a.deployment)}</td><td>${esc(a.startsAt.replace("T", " ").slice(0, 19))}</td><td>${esc(a.summary)}</td></tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  const sections = report.deployments.map((d) => deploymentSection(d, report.traffic[d.deployment])).join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>pier monitor · ${esc(report.endpoint)}</title><style>${STYLE}</style></head><body>
<h1>Monitoring: ${esc(report.endpoint)}</h1>
<p class="sub">Window ${esc(report.window.from.replace("T", " ").slice(0, 16))} – ${esc(report.window.to.replace("T", " ").slice(0, 16))} UTC · generated ${esc(report.generatedAt.replace("T", " ").slice(0, 19))} UTC · drift: normalized Wasserstein distance (numbers) and Jensen–Shannon distance (categories) against the training baseline, thresholds as Azure ML's defaults</p>
${alerts}<div class="columns">${sections || '<p class="muted">The endpoint has no deployments.</p>'}</div></body></html>
`;
}
