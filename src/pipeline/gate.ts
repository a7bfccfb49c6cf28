/**
 * The promotion gate: MLflow's MetricThreshold per metric (threshold; min_absolute_change and
 * min_relative_change against the champion on the same held-out rows; greater_is_better), plus the
 * leakage rule. REJECT when the challenger misses an absolute threshold or leaks; HOLD when it is
 * good enough but does not beat the champion by the margin; PROMOTE otherwise.
 */
import type { GateThreshold, PipelineSpec } from "../config/index.js";

export type GateVerdict = "PROMOTE" | "HOLD" | "REJECT";

export interface GateRow {
  rule: string;
  challenger: number | null;
  champion: number | null;
  /** What the rule asks, e.g. "≥ 0.7" or "≥ champion + 0.01". */
  needs: string;
  pass: boolean;
  /** REJECT for an absolute rule, HOLD for a comparison with the champion. */
  fails: "REJECT" | "HOLD";
}

export interface Gate {
  verdict: GateVerdict;
  rows: GateRow[];
  /** One line per failed rule. */
  reasons: string[];
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));

function metricRows(
  metric: string,
  t: GateThreshold,
  challenger: number,
  champion: number | null,
): GateRow[] {
  const better = (a: number, b: number) => (t.greater_is_better ? a >= b : a <= b);
  const sign = t.greater_is_better ? "≥" : "≤";
  const rows: GateRow[] = [];
  if (t.threshold !== undefined)
    rows.push({
      rule: `${metric} threshold`,
      challenger,
      champion,
      needs: `${sign} ${fmt(t.threshold)}`,
      pass: better(challenger, t.threshold),
      fails: "REJECT",
    });
  if (champion !== null) {
    if (t.min_absolute_change !== undefined) {
      const need = t.greater_is_better ? champion + t.min_absolute_change : champion - t.min_absolute_change;
      rows.push({
        rule: `${metric} min_absolute_change`,
        challenger,
        champion,
        needs: `${sign} champion ${t.greater_is_better ? "+" : "−"} ${fmt(t.min_absolute_change)} = ${fmt(need)}`,
        pass: better(challenger, need),
        fails: "HOLD",
      });
    }
    if (t.min_relative_change !== undefined) {
      const need = t.greater_is_better
        ? champion * (1 + t.min_relative_change)
        : champion * (1 - t.min_relative_change);
      rows.push({
        rule: `${metric} min_relative_change`,
        challenger,
        champion,
        needs: `${sign} champion × ${fmt(t.greater_is_better ? 1 + t.min_relative_change : 1 - t.min_relative_change)} = ${fmt(need)}`,
        pass: better(challenger, need),
        fails: "HOLD",
      });
    }
  }
  return rows;
}

export function judgeGate(
  gate: PipelineSpec["gate"],
  challenger: Record<string, number>,
  champion: Record<string, number> | null,
  leakage: { feature: string; auc: number }[],
): Gate {
  const rows = Object.entries(gate.metrics).flatMap(([metric, t]) =>
    metricRows(metric, t!, challenger[metric] ?? Number.NaN, champion ? (champion[metric] ?? null) : null),
  );
  for (const finding of leakage)
    rows.push({
      rule: `leakage: ${finding.feature}`,
      challenger: finding.auc,
      champion: null,
      needs: "< 0.99 single-feature ROC AUC",
      pass: gate.leakage === "warn",
      fails: "REJECT",
    });
  const failed = rows.filter((r) => !r.pass);
  const reasons = failed.map(
    (r) =>
      `${r.rule}: challenger ${r.challenger === null ? "–" : fmt(r.challenger)}${r.champion !== null ? `, champion ${fmt(r.champion)}` : ""}; needs ${r.needs}`,
  );
  const verdict: GateVerdict = failed.some((r) => r.fails === "REJECT")
    ? "REJECT"
    : failed.length
      ? "HOLD"
      : "PROMOTE";
  return { verdict, rows, reasons };
}
