/**
 * A rollout step's evidence and its verdict: what the new deployment and the stable one did in the
 * step's window (requests, failures by kind, latencies), how their answers to the same requests
 * compared, and what instance events the new one had; judged against the rollout's thresholds with
 * confidence bounds (shared/bounds.ts), so a check fails only on a difference both large and unlikely
 * by chance at its sample size. A step with too little evidence is "insufficient", never a pass.
 */
import type { RolloutSpec } from "../config/index.js";
import type { FailureKind } from "../gateway/index.js";
import {
  levelOf,
  meanBounds,
  nearestRank,
  proportionDifference,
  quantileBounds,
  wilson,
} from "../shared/index.js";
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

/** The nearest-rank quantile of values (sorted or not). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  return nearestRank(
    [...values].sort((a, b) => a - b),
    q,
  )!;
}

/** The kinds that are the deployment's capacity (its own admission turned the request away), not its model. */
const CAPACITY_KINDS: readonly FailureKind[] = ["429"];

const errorsOf = (s: SideStats) =>
  Object.entries(s.failures)
    .filter(([k]) => !CAPACITY_KINDS.includes(k as FailureKind))
    .reduce((a, [, b]) => a + (b ?? 0), 0);
const turnedAway = (s: SideStats) => CAPACITY_KINDS.reduce((a, k) => a + (s.failures[k] ?? 0), 0);

/** One metric next to its threshold. `ok` undefined: not judged (too little evidence, or switched off). */
export interface Check {
  metric: string;
  value: number | null;
  threshold: number;
  ok: boolean | undefined;
  /** How many observations it rests on. */
  sample: number;
  /**
   * The estimate is past the threshold but its bound is not yet: worse or chance, the window cannot
   * tell. The bake goes on (not a pass, not a failure).
   */
  undecided?: true;
  /** The bound the decision rests on: its side, its one-sided level, its value. */
  bound?: { side: "lower" | "upper"; level: string; value: number };
  /** The check in words, e.g. "label flip rate 0.31 (99.5 % lower bound 0.26) > 0.05 over 412 compared requests". */
  line: string;
}

/** pending: the bake goes on; insufficient: the bake is over but the evidence is too thin to pass. */
export type Verdict = "pass" | "fail" | "insufficient" | "pending";

export interface Judgement {
  verdict: Verdict;
  checks: Check[];
  reason: string;
}

/**
 * How sure a failure must be. A bake is looked at many times before it ends, so a failure found on
 * the way needs 99.95 % (z 3.29, O'Brien–Fleming's spirit: early looks pay for their number); at the
 * end of the bake, 99.5 % (z 2.58). A/A rollouts (the same model over itself) then fail by chance
 * well under once in a hundred.
 */
const Z_INTERIM = 3.291;
const Z_FINAL = 2.576;

/** The new deployment's admission against what the stable serves, for the capacity check. */
export interface Capacity {
  /** Requests the new deployment takes at once (instances × max_concurrent_requests_per_instance). */
  slots: number;
  /** In flight or queued before it answers 429 (twice the slots, as Azure's front end). */
  limit: number;
  /** The most requests the stable served at once recently. */
  stablePeak: number;
  /** The YAML change that gives it the stable's room, e.g. "request_settings.max_concurrent_requests_per_instance: 64". */
  fix: string;
}

/**
 * A check's state from its estimate and its bound: failed when the bound is past the threshold; passed
 * when the estimate is within it on enough evidence; otherwise not judged yet (undecided when the
 * estimate is past the threshold without the bound).
 */
function decide(estimatePast: boolean, boundPast: boolean, enough: boolean): Pick<Check, "ok" | "undecided"> {
  if (boundPast) return { ok: false };
  if (estimatePast) return { ok: undefined, undecided: true };
  return { ok: enough ? true : undefined };
}

const fmt = (n: number) =>
  Number.isInteger(n) ? String(n) : Math.abs(n) < 0.01 ? n.toPrecision(2) : n.toFixed(3).replace(/0+$/, "");

/**
 * The verdict on a window. A check fails only when its bound says the new deployment is worse by more
 * than the threshold (a difference both large and unlikely by chance at that sample size), at any
 * look; latency is judged at the end of the bake, against the stable in the same window (a busy
 * machine slows both alike). A step passes at the end of its bake when it has enough evidence and no
 * check failed; with too little, it is "insufficient", never a pass.
 * `baselineMs`: the stable's latencies from before, for a step where the stable gets no traffic.
 */
export function judge(
  window: WindowStats,
  analysis: RolloutSpec["analysis"],
  options: { final: boolean; compare: boolean; baselineMs?: readonly number[]; capacity?: Capacity },
): Judgement {
  const z = options.final ? Z_FINAL : Z_INTERIM;
  const level = levelOf(z);
  const checks: Check[] = [];
  const cand = window.candidate;
  const stable = window.stable;
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

  // Errors: the new deployment's rate against the stable's in the same window, its excess bounded.
  const k1 = errorsOf(cand);
  const k2 = errorsOf(stable);
  const excess = proportionDifference(k1, cand.requests, k2, stable.requests, z);
  const errorsFail = cand.requests > 0 && excess.low > analysis.max_error_rate;
  const excessEstimate = cand.requests
    ? k1 / cand.requests - (stable.requests ? k2 / stable.requests : 0)
    : 0;
  const kinds = Object.entries(cand.failures)
    .filter(([k]) => !CAPACITY_KINDS.includes(k as FailureKind))
    .map(([k, n]) => `${n} × ${k}`)
    .join(", ");
  checks.push({
    metric: "error rate excess",
    value: cand.requests ? excessEstimate : null,
    threshold: analysis.max_error_rate,
    ...decide(excessEstimate > analysis.max_error_rate, errorsFail, enough),
    sample: cand.requests,
    ...(cand.requests > 0 ? { bound: { side: "lower" as const, level, value: excess.low } } : {}),
    line: `errors ${k1} of ${cand.requests}${kinds ? ` (${kinds})` : ""} vs the stable's ${k2} of ${stable.requests}: excess ${level} lower bound ${fmt(excess.low)} ${errorsFail ? ">" : "≤"} ${analysis.max_error_rate}`,
  });

  // Capacity: requests the new deployment's own admission turned away (answered by the stable).
  const away = turnedAway(cand);
  const awayBound = wilson(away, cand.requests, z).low;
  const capacityFail = away > 0 && awayBound > analysis.max_error_rate;
  const room = options.capacity;
  checks.push({
    metric: "capacity",
    value: cand.requests ? away / cand.requests : null,
    threshold: analysis.max_error_rate,
    ...decide(cand.requests > 0 && away / cand.requests > analysis.max_error_rate, capacityFail, enough),
    sample: cand.requests,
    ...(away > 0 ? { bound: { side: "lower" as const, level, value: awayBound } } : {}),
    line:
      away === 0
        ? "capacity: no request turned away by the new deployment's admission"
        : `capacity: ${away} of ${cand.requests} requests turned away with 429 by the new deployment's own admission${room ? ` (${room.slots} at once, ${room.limit} in flight or queued, while the stable served up to ${room.stablePeak} at once)` : ""}, ${level} lower bound ${fmt(awayBound)} ${capacityFail ? ">" : "≤"} ${analysis.max_error_rate}${capacityFail && room ? `; give it the stable's room: ${room.fix}` : ""}`,
  });

  // Latency, at the end of the bake: order-statistic bounds on each side's quantile.
  const stableMs =
    stable.latenciesMs.length >= analysis.min_requests ? stable.latenciesMs : (options.baselineMs ?? []);
  const mineSorted = [...cand.latenciesMs].sort((a, b) => a - b);
  const theirsSorted = [...stableMs].sort((a, b) => a - b);
  for (const [q, name, limit] of [
    [0.5, "p50", analysis.max_latency_p50_ratio],
    [0.99, "p99", analysis.max_latency_p99_ratio],
  ] as const) {
    const mine = quantile(mineSorted, q);
    const theirs = quantile(theirsSorted, q);
    const mineLow = quantileBounds(mineSorted, q, z).low;
    const theirsHigh = quantileBounds(theirsSorted, q, z).high;
    const bounded = mineLow !== undefined && theirsHigh !== undefined && theirsHigh > 0;
    const judged = options.final && enough && bounded;
    const worse = bounded && mineLow > theirsHigh * limit && mineLow - theirsHigh > analysis.latency_slack_ms;
    const looksWorse = mine > theirs * limit && mine - theirs > analysis.latency_slack_ms;
    const ratioLow = bounded ? mineLow / theirsHigh : null;
    checks.push({
      metric: `latency ${name} ratio`,
      value: Number.isFinite(mine / theirs) ? mine / theirs : null,
      threshold: limit,
      ...(judged ? decide(looksWorse, worse, true) : { ok: undefined }),
      sample: mineSorted.length,
      ...(ratioLow !== null ? { bound: { side: "lower" as const, level, value: ratioLow } } : {}),
      line:
        mineSorted.length === 0 || theirsSorted.length === 0
          ? `latency ${name}: no ${mineSorted.length ? "stable" : "new"} latencies to compare`
          : !bounded
            ? `latency ${name} ${mine.toFixed(1)} ms vs ${theirs.toFixed(1)} ms: not judged (${mineSorted.length} new and ${theirsSorted.length} stable samples are too few for a ${level} bound on the ${name})`
            : `latency ${name} ${mine.toFixed(1)} ms vs ${theirs.toFixed(1)} ms (${level} bounds: new ≥ ${mineLow.toFixed(1)}, stable ≤ ${theirsHigh.toFixed(1)}): ratio ≥ ${ratioLow!.toFixed(2)} ${ratioLow! > limit ? ">" : "≤"} ${limit}${!worse && ratioLow! > limit ? `, but within the ${analysis.latency_slack_ms} ms slack` : ""}`,
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
    const judgedAt = (past: boolean, fails: boolean) => decide(past, fails, enoughCompared);
    for (const [name, out] of Object.entries(window.outputs)) {
      if (out.kind === "label") {
        const flipRate = out.values ? out.flips / out.values : 0;
        const low = wilson(out.flips, out.values, z).low;
        const fails = out.values > 0 && low > analysis.max_label_flip_rate;
        checks.push({
          metric: `label flip rate (${name})`,
          value: flipRate,
          threshold: analysis.max_label_flip_rate,
          ...judgedAt(flipRate > analysis.max_label_flip_rate, fails),
          sample: out.values,
          bound: { side: "lower", level, value: low },
          line: `label flip rate (${name}) ${fmt(flipRate)} (${out.flips} of ${out.values} values in ${compared} compared requests; ${level} lower bound ${fmt(low)}) ${fails ? ">" : "≤"} ${analysis.max_label_flip_rate}`,
        });
      } else {
        const mean = meanBounds(out.deltas, z);
        const meanFails = out.deltas.length > 1 && mean.low > analysis.max_relative_delta_mean;
        const sorted = [...out.deltas].sort((a, b) => a - b);
        const p99 = sorted.length ? quantile(sorted, 0.99) : 0;
        const p99Low = quantileBounds(sorted, 0.99, z).low;
        const p99Fails = p99Low !== undefined && p99Low > analysis.max_relative_delta_p99;
        checks.push(
          {
            metric: `relative |Δ| mean (${name})`,
            value: Number.isFinite(mean.mean) ? mean.mean : 0,
            threshold: analysis.max_relative_delta_mean,
            ...judgedAt(mean.mean > analysis.max_relative_delta_mean, meanFails),
            sample: out.deltas.length,
            ...(out.deltas.length > 1 ? { bound: { side: "lower" as const, level, value: mean.low } } : {}),
            line: `relative |Δ| mean (${name}) ${fmt(Number.isFinite(mean.mean) ? mean.mean : 0)} (${level} lower bound ${fmt(Number.isFinite(mean.low) ? mean.low : 0)} over ${out.deltas.length} values) ${meanFails ? ">" : "≤"} ${analysis.max_relative_delta_mean}`,
          },
          {
            metric: `relative |Δ| p99 (${name})`,
            value: p99,
            threshold: analysis.max_relative_delta_p99,
            ...judgedAt(p99 > analysis.max_relative_delta_p99, p99Fails),
            sample: out.deltas.length,
            ...(p99Low !== undefined ? { bound: { side: "lower" as const, level, value: p99Low } } : {}),
            line: `relative |Δ| p99 (${name}) ${fmt(p99)} (${p99Low === undefined ? `too few values for a ${level} bound` : `${level} lower bound ${fmt(p99Low)}`}) ${p99Fails ? ">" : "≤"} ${analysis.max_relative_delta_p99}`,
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
      reason: `not enough evidence: ${cand.requests} requests on the new deployment, ${analysis.min_requests} needed`,
    };
  if (options.compare && window.compared < analysis.min_compared)
    return {
      verdict: "insufficient",
      checks,
      reason: `not enough evidence: ${window.compared} compared answers, ${analysis.min_compared} needed`,
    };
  const undecided = checks.find((c) => c.undecided);
  if (undecided)
    return {
      verdict: "insufficient",
      checks,
      reason: `not enough evidence yet: ${undecided.line} (past the threshold, but not beyond chance at this sample size)`,
    };
  return { verdict: "pass", checks, reason: "every check passed" };
}
