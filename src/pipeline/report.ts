/**
 * A pipeline run's decision record as one self-contained HTML page: the outcome, the steps and their
 * times, the inputs and their hashes, challenger and champion metrics, the ROC curves, the confusion
 * matrix, feature importances, the gate table and the rollout's verdict.
 */

import { escapeHtml } from "../shared/index.js";
import type { Evaluation } from "../training/index.js";
import type { RunRecord } from "./record.js";

const esc = escapeHtml;
const num = (v: number | null | undefined, digits = 4) =>
  v === null || v === undefined || Number.isNaN(v) ? "–" : v.toFixed(digits);

function rocSvg(curves: { label: string; color: string; points: [number, number][] }[]): string {
  const S = 260;
  const pad = 30;
  const x = (v: number) => pad + v * (S - pad - 10);
  const y = (v: number) => S - pad - v * (S - pad - 10);
  const paths = curves
    .map(
      (c) =>
        `<path d="${c.points.map(([fx, fy], i) => `${i ? "L" : "M"}${x(fx).toFixed(1)},${y(fy).toFixed(1)}`).join("")}" fill="none" stroke="${c.color}" stroke-width="2"/>`,
    )
    .join("");
  return `<svg viewBox="0 0 ${S} ${S}" width="${S}" height="${S}" role="img" aria-label="ROC curves"><rect x="${pad}" y="10" width="${S - pad - 10}" height="${S - pad - 10}" fill="none" stroke="#cbd5e1"/><line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#cbd5e1" stroke-dasharray="4 3"/>${paths}<text x="${S / 2}" y="${S - 6}" text-anchor="middle" class="axis">false positive rate</text><text x="10" y="${S / 2}" transform="rotate(-90 10 ${S / 2})" text-anchor="middle" class="axis">true positive rate</text></svg><div class="legend">${curves.map((c) => `<span><i style="background:${c.color}"></i>${esc(c.label)}</span>`).join("")}</div>`;
}

function importanceBars(importances: Record<string, number>): string {
  const entries = Object.entries(importances).sort((a, b) => b[1] - a[1]);
  const max = Math.max(0.0001, ...entries.map(([, v]) => Math.abs(v)));
  return `<table>${entries
    .map(
      ([name, v]) =>
        `<tr><td>${esc(name)}</td><td class="bar"><span style="width:${((Math.max(0, v) / max) * 100).toFixed(1)}%"></span></td><td class="num">${num(v)}</td></tr>`,
    )
    .join("")}</table>`;
}

function confusion(e: Evaluation): string {
  const c = e.confusion;
  return `<table class="confusion"><tr><th></th><th>predicted 1</th><th>predicted 0</th></tr><tr><th>actual 1</th><td>${c.tp}</td><td>${c.fn}</td></tr><tr><th>actual 0</th><td>${c.fp}</td><td>${c.tn}</td></tr></table>`;
}

const STYLE = `:root{font-family:system-ui,sans-serif;color:#0f172a;background:#f8fafc}body{margin:0;padding:24px 32px;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}.sub{color:#64748b}table{border-collapse:collapse;background:#fff;border:1px solid #e2e8f0;font-size:14px}
th,td{padding:5px 10px;border-bottom:1px solid #f1f5f9;text-align:left}.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;font-weight:600;font-size:13px}.good{background:#dcfce7;color:#166534}.bad{background:#fee2e2;color:#991b1b}.warn{background:#fef3c7;color:#92400e}
.grid{display:flex;gap:28px;flex-wrap:wrap;align-items:flex-start}.axis{font-size:10px;fill:#64748b}.legend{font-size:12px;display:flex;gap:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
td.bar{width:260px}td.bar span{display:block;height:10px;background:#2563eb;border-radius:2px}.confusion td{text-align:center;min-width:80px}code{background:#f1f5f9;padding:1px 4px;border-radius:3px}`;

const TONE: Record<string, string> = {
  Succeeded: "good",
  PROMOTE: "good",
  Held: "warn",
  HOLD: "warn",
  WaitingApproval: "warn",
};

export function pipelineReportHtml(run: RunRecord): string {
  const badge = (text: string) => `<span class="badge ${TONE[text] ?? "bad"}">${esc(text)}</span>`;
  const challenger = run.challenger?.evaluation;
  const champion = run.champion?.evaluation;
  const metrics = challenger
    ? Object.keys(challenger.metrics)
        .map((m) => {
          const a = (challenger.metrics as unknown as Record<string, number>)[m]!;
          const b = champion ? (champion.metrics as unknown as Record<string, number>)[m] : undefined;
          return `<tr><td>${m}</td><td class="num">${num(a)}</td><td class="num">${num(b)}</td><td class="num">${b === undefined ? "–" : `${a - b >= 0 ? "+" : ""}${num(a - b)}`}</td></tr>`;
        })
        .join("")
    : "";
  const gate = run.gate
    ? `<table><tr><th>rule</th><th class="num">challenger</th><th class="num">champion</th><th>needs</th><th>result</th></tr>${run.gate.rows
        .map(
          (r) =>
            `<tr><td>${esc(r.rule)}</td><td class="num">${num(r.challenger)}</td><td class="num">${num(r.champion)}</td><td>${esc(r.needs)}</td><td>${r.pass ? "✔ pass" : `✘ ${r.fails}`}</td></tr>`,
        )
        .join(
          "",
        )}</table><p>Verdict ${badge(run.gate.verdict)}${run.forced ? " — <strong>forced</strong> past the gate (--force)" : ""}</p>`
    : "<p>The run did not reach the gate.</p>";
  const steps = run.steps
    .map(
      (s) =>
        `<tr><td>${s.name}</td><td>${esc(s.state)}</td><td class="num">${s.ms ?? "–"} ms</td><td>${esc(s.detail ?? "")}</td></tr>`,
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pier pipeline run #${run.id}</title><style>${STYLE}</style></head><body>
<h1>Pipeline ${esc(run.name)}, run #${run.id} ${badge(run.state)}</h1>
<p class="sub">${esc(run.outcome ?? "")} · started ${esc(run.startedAt)}${run.endedAt ? ` · ended ${esc(run.endedAt)}` : ""}${run.forced ? " · forced" : ""}</p>
${run.error ? `<p class="badge bad">${esc(run.error.code)}: ${esc(run.error.summary)}</p><p>${esc(run.error.fix ?? "")}</p>` : ""}
<h2>Steps</h2><table>${steps}</table>
<h2>Inputs</h2><p>${run.inputs ? `<code>${esc(run.inputs.data)}</code>, ${run.inputs.rows} rows, sha256 <code>${run.inputs.sha256}</code>` : "–"}; target <code>${esc(run.spec.target)}</code>; training ${esc(JSON.stringify(run.spec.train))}</p>
<h2>Metrics on the same held-out rows</h2><table><tr><th>metric</th><th class="num">challenger</th><th class="num">champion${run.champion ? ` (v${run.champion.version})` : ""}</th><th class="num">change</th></tr>${metrics}</table>
${challenger ? `<div class="grid"><div><h2>ROC curve</h2>${rocSvg([{ label: "challenger", color: "#2563eb", points: challenger.roc }, ...(champion ? [{ label: `champion v${run.champion!.version}`, color: "#94a3b8", points: champion.roc }] : [])])}</div><div><h2>Confusion matrix (challenger)</h2>${confusion(challenger)}</div><div><h2>Feature importance (ROC AUC drop when shuffled)</h2>${importanceBars(challenger.importances)}</div></div>` : ""}
<h2>Gate</h2>${gate}
${run.approval ? `<h2>Approval</h2><p>${esc(run.approval.decision)} by ${esc(run.approval.by)} at ${esc(run.approval.at)}${run.approval.comment ? `: “${esc(run.approval.comment)}”` : ""}</p>` : ""}
<h2>Registration and rollout</h2><p>${run.registered ? `models:/${esc(run.registered.name)}/${run.registered.version}` : "not registered"}${run.deployment ? ` as deployment <code>${esc(run.deployment)}</code>` : ""}; rollout ${run.rollout ? `${run.rollout.id !== null ? `#${run.rollout.id} ` : ""}${badge(run.rollout.state)} ${esc(run.rollout.reason ?? "")}` : "not started"}</p>
</body></html>
`;
}
