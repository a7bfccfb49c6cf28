/**
 * A rollout step's evidence and its verdict: what the new deployment and the stable one did in the
 * step's window (requests, failures by kind, latencies), how their answers to the same requests
 * compared, and what instance events the new one had; judged against the rollout's thresholds. A
 * step with too little evidence is "insufficient", never a pass.
 */
import type { RolloutSpec } from "../config/index.js";
import type { FailureKind } from "../gateway/index.js";
import { nearestRank } from "../shared/index.js";
import type { Comparison } from "./compare.js";

/** What a deployment did in a window. */
export interface SideStats {
  requests: number;
  failures: Partial<Record<FailureKind, number>>;
  /** Latencies of its successful answers (a reservoir when there are many). */
  latenciesMs: number[];
}

interface OutputStats {
  kind: "label" | "score";
  values: number;
  flips: number;
  deltas: number[];
}

export interface WindowStats {
  candidate: SideStats;
  stable: SideStats;
  compared: number;
  /** Pairs of answers that could not be compared, with the first reason. */
  incomparable: number;
  incomparableWhy?: string;
  outputs: Record<string, OutputStats>;
  /** Instance events of the new deployment in the window that mean it is not well (crash, OOM, probe). */
  incidents: string[];
}

const RESERVOIR = 5000;

const side = (): SideStats => ({ requests: 0, failures: {}, latenciesMs: [] });

/** Keeps at most RESERVOIR samples, each seen value with equal chance (reservoir sampling). */
function keep(list: number[], value: number, seen: number): void {
  if (list.length < RESERVOIR) list.push(value);
  else {
    const slot = Math.floor(Math.random() * seen);
    if (slot < RESERVOIR) list[slot] = value;
  }
}

/** A step's window, filled as requests happen. */
export class StepWindow {
  readonly stats: WindowStats = {
    candidate: side(),
    stable: side(),
    compared: 0,
    incomparable: 0,
    outputs: {},
    incidents: [],
  };

  constructor(readonly startedAt = Date.now()) {}

  record(
    which: "candidate" | "stable",
    outcome: { ok: true; ms: number } | { ok: false; kind: FailureKind },
  ): void {
    const s = this.stats[which];
    s.requests++;
    if (outcome.ok) keep(s.latenciesMs, outcome.ms, s.requests);
    else s.failures[outcome.kind] = (s.failures[outcome.kind] ?? 0) + 1;
  }

  compare(comparison: Comparison): void {
    if (!comparison.comparable) {
      this.stats.incomparable++;
      this.stats.incomparableWhy ??= comparison.why;
      return;
    }
    this.stats.compared++;
    for (const o of comparison.outputs) {
      const out = this.stats.outputs[o.name] ?? { kind: o.kind, values: 0, flips: 0, deltas: [] };
      this.stats.outputs[o.name] = out;
      out.values += o.values;
      out.flips += o.flips;
      for (const d of o.deltas) keep(out.deltas, d, out.values);
    }
  }

  incident(line: string): void {
    this.stats.incidents.push(line);
  }
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  return nearestRank(
    [...values].sort((a, b) => a - b),
    q,
  )!;
}

const failed = (s: SideStats) => Object.values(s.failures).reduce((a, b) => a + (b ?? 0), 0);

/** One metric next to its threshold. `ok` undefined: not judged (too little evidence, or switched off). */
export interface Check {
  metric: string;
  value: number | null;
  threshold: number;
  ok: boolean | undefined;
  /** How many observations it rests on. */
  sample: number;
  /** The check in words, e.g. "label flip rate 0.31 > 0.05 over 412 compared requests". */
  line: string;
}

/** pending: the bake goes on; insufficient: the bake is over but the evidence is too thin to pass. */
export type Verdict = "pass" | "fail" | "insufficient" | "pending";

export interface Judgement {
  verdict: Verdict;
  checks: Check[];
  reason: string;
}

const fmt = (n: number) =>
  Number.isInteger(n) ? String(n) : n < 0.01 ? n.toPrecision(2) : n.toFixed(3).replace(/0+$/, "");

/**
 * The verdict on a window. Failures are judged as soon as there is evidence enough; latency only at
 * the end of the bake (`final`), where a window without enough evidence is "insufficient".
 * `baselineMs`: the stable's latencies from before, for a step where the stable gets no traffic.
 */
export function judge(
  window: WindowStats,
  analysis: RolloutSpec["analysis"],
  options: { final: boolean; compare: boolean; baselineMs?: readonly number[] },
): Judgement {
  const checks: Check[] = [];
  const cand = window.candidate;
  const enough = cand.requests >= analysis.min_requests;
  checks.push({
    metric: "incidents",
    value: window.incidents.length,
    threshold: 0,
    ok: window.incidents.length === 0,
    sample: window.incidents.length,
    line:
      window.incidents.length === 0
        ? "no crash, OOM or probe failure of the new deployment"
        : `the new deployment ${window.incidents[0]}${window.incidents.length > 1 ? ` (and ${window.incidents.length - 1} more)` : ""}`,
  });
  const rate = cand.requests ? failed(cand) / cand.requests : 0;
  const stableRate = window.stable.requests ? failed(window.stable) / window.stable.requests : 0;
  const rateLimit = Math.max(analysis.max_error_rate, stableRate + analysis.max_error_rate);
  const kinds = Object.entries(cand.failures)
    .map(([k, n]) => `${n} × ${k}`)
    .join(", ");
  checks.push({
    metric: "error rate",
    value: rate,
    threshold: rateLimit,
    ok: enough ? rate <= rateLimit : undefined,
    sample: cand.requests,
    line: `error rate ${fmt(rate)} ${rate <= rateLimit ? "≤" : ">"} ${fmt(rateLimit)} over ${cand.requests} requests${kinds ? ` (${kinds})` : ""}`,
  });
  const stableMs =
    window.stable.latenciesMs.length >= analysis.min_requests
      ? window.stable.latenciesMs
      : (options.baselineMs ?? []);
  for (const [q, name, limit] of [
    [0.5, "p50", analysis.max_latency_p50_ratio],
    [0.99, "p99", analysis.max_latency_p99_ratio],
  ] as const) {
    const mine = quantile(cand.latenciesMs, q);
    const theirs = quantile(stableMs, q);
    const ratio = mine / theirs;
    const judged = options.final && enough && stableMs.length > 0;
    const ok = !judged ? undefined : ratio <= limit || mine - theirs <= analysis.latency_slack_ms;
    checks.push({
      metric: `latency ${name} ratio`,
      value: Number.isFinite(ratio) ? ratio : null,
      threshold: limit,
      ok,
      sample: cand.latenciesMs.length,
      line: Number.isFinite(ratio)
        ? `latency ${name} ${mine.toFixed(1)} ms vs ${theirs.toFixed(1)} ms: ratio ${ratio.toFixed(2)} ${ratio <= limit ? "≤" : ">"} ${limit}${ratio > limit && ok ? ` (within the ${analysis.latency_slack_ms} ms slack)` : ""}`
        : `latency ${name}: no ${cand.latenciesMs.length ? "stable" : "new"} latencies to compare`,
    });
  }
  if (options.compare) {
    const compared = window.compared;
    const enoughCompared = compared >= analysis.min_compared;
    if (window.incomparable > 0)
      checks.push({
        metric: "answer shape",
        value: window.incomparable,
        threshold: 0,
        ok: false,
        sample: window.incomparable + compared,
        line: `${window.incomparable} answer(s) could not be compared with the stable's: ${window.incomparableWhy}`,
      });
    for (const [name, out] of Object.entries(window.outputs)) {
      if (out.kind === "label") {
        const flipRate = out.values ? out.flips / out.values : 0;
        checks.push({
          metric: `label flip rate (${name})`,
          value: flipRate,
          threshold: analysis.max_label_flip_rate,
          ok: enoughCompared ? flipRate <= analysis.max_label_flip_rate : undefined,
          sample: compared,
          line: `label flip rate (${name}) ${fmt(flipRate)} ${flipRate <= analysis.max_label_flip_rate ? "≤" : ">"} ${analysis.max_label_flip_rate} over ${compared} compared requests`,
        });
      } else {
        const mean = out.deltas.length ? out.deltas.reduce((a, b) => a + b, 0) / out.deltas.length : 0;
        const p99 = out.deltas.length ? quantile(out.deltas, 0.99) : 0;
        checks.push(
          {
            metric: `relative |Δ| mean (${name})`,
            value: mean,
            threshold: analysis.max_relative_delta_mean,
            ok: enoughCompared ? mean <= analysis.max_relative_delta_mean : undefined,
            sample: compared,
            line: `relative |Δ| mean (${name}) ${fmt(mean)} ${mean <= analysis.max_relative_delta_mean ? "≤" : ">"} ${analysis.max_relative_delta_mean} over ${compared} compared requests`,
          },
          {
            metric: `relative |Δ| p99 (${name})`,
            value: p99,
            threshold: analysis.max_relative_delta_p99,
            ok: enoughCompared ? p99 <= analysis.max_relative_delta_p99 : undefined,
            sample: compared,
            line: `relative |Δ| p99 (${name}) ${fmt(p99)} ${p99 <= analysis.max_relative_delta_p99 ? "≤" : ">"} ${analysis.max_relative_delta_p99} over ${compared} compared requests`,
          },
        );
      }
    }
    if (options.final && !enoughCompared)
      checks.push({
        metric: "compared answers",
        value: compared,
        threshold: analysis.min_compared,
        ok: undefined,
        sample: compared,
        line: `${compared} compared answers, fewer than the ${analysis.min_compared} needed`,
      });
  }
  const failing = checks.find((c) => c.ok === false);
  if (failing) return { verdict: "fail", checks, reason: failing.line };
  if (!options.final)
    return {
      verdict: "pending",
      checks,
      reason: `baking: ${cand.requests} requests on the new deployment so far`,
    };
  if (!enough)
    return {
      verdict: "insufficient",
      checks,
      reason: `insufficient data: ${cand.requests} requests on the new deployment, ${analysis.min_requests} needed`,
    };
  if (options.compare && window.compared < analysis.min_compared)
    return {
      verdict: "insufficient",
      checks,
      reason: `insufficient data: ${window.compared} compared answers, ${analysis.min_compared} needed`,
    };
  return { verdict: "pass", checks, reason: "every check passed" };
}
