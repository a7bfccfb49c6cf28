/**
 * A rollout's plan and its guardrails: the strategy and its bounds named as SageMaker's deployment
 * guardrails name them (TrafficRoutingConfiguration, TerminationWaitInSeconds,
 * MaximumExecutionTimeoutInSeconds), the shadow bake within Azure's mirror rules, the analysis
 * thresholds and the smoke requests. From a strict YAML file, from CLI flags, or both (flags win).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { userError } from "../shared/index.js";
import { checkSpec } from "./load.js";

const seconds = (max: number) => z.number().int().min(0).max(max);

const rolloutSchema = z.strictObject({
  strategy: z
    .strictObject({
      /** canary: one step of canary_size %, then all; linear: linear_step_size % more per step; all_at_once. */
      type: z.enum(["canary", "linear", "all_at_once"]).default("canary"),
      /** SageMaker's CanarySize: at most half the traffic. */
      canary_size: z.number().int().min(1).max(50).default(10),
      /** SageMaker's LinearStepSize: 10–50 %. */
      linear_step_size: z.number().int().min(10).max(50).default(25),
      /** SageMaker's WaitIntervalInSeconds: the bake after each step, 0–3600. */
      wait_interval_seconds: seconds(3600).default(60),
    })
    .prefault({}),
  /** SageMaker's TerminationWaitInSeconds: the old deployment is kept this long after promotion. */
  termination_wait_seconds: seconds(3600).default(0),
  /** SageMaker's MaximumExecutionTimeoutInSeconds (600–28800 there; pier allows from 1 s for local runs). */
  maximum_execution_timeout_seconds: z.number().int().min(1).max(28_800).default(3600),
  shadow: z
    .strictObject({
      /** The share of live requests mirrored to the new deployment (Azure: at most 50 %); 0 skips the bake. */
      mirror_percent: z.number().int().min(0).max(50).default(20),
      /** The shadow bake; the strategy's wait_interval_seconds when absent. */
      wait_interval_seconds: seconds(3600).optional(),
    })
    .prefault({}),
  smoke: z
    .strictObject({
      /** Request bodies sent to the new deployment alone before any client is involved: inline JSON, or files. */
      requests: z
        .array(z.union([z.strictObject({ file: z.string().min(1) }), z.record(z.string(), z.unknown())]))
        .default([]),
    })
    .prefault({}),
  analysis: z
    .strictObject({
      /** Below this many requests on the new deployment in a step the verdict is "not enough evidence". */
      min_requests: z.number().int().min(1).default(50),
      /** …and below this many compared answers. */
      min_compared: z.number().int().min(1).default(30),
      /**
       * A bake that ends without enough evidence goes on until it has it, for at most this long from
       * its start; then the rollout is held (never passed, never rolled back). Default: five bakes, at
       * least 300 s.
       */
      max_bake_seconds: z.number().int().min(1).max(28_800).optional(),
      /**
       * How much more often than the stable the new deployment may fail (5xx, 424, 408, dropped,
       * refused input the stable accepts), as a share of its requests: it fails the step only when
       * the excess's lower confidence bound is above this. 429s of its own admission are capacity.
       */
      max_error_rate: z.number().min(0).max(1).default(0.01),
      max_latency_p50_ratio: z.number().min(1).default(1.5),
      max_latency_p99_ratio: z.number().min(1).default(2),
      /** A latency difference smaller than this never fails, whatever the ratio (a quiet machine's p50 is noise). */
      latency_slack_ms: z.number().min(0).default(20),
      /** Compare the new deployment's answers with the stable's on the same requests. */
      compare_answers: z.boolean().default(true),
      /** Share of requests the new deployment serves that are also sent to the stable to compare. */
      compare_percent: z.number().int().min(0).max(100).default(100),
      /*
       * Answer agreement, calibrated on retrains (docs/rollout-defaults.md): ten retrains of the default
       * model with other seeds flip at most 0.05 % of labels, move probabilities by 0.015–0.050 on
       * average and 0.05–0.29 at the 99th percentile; the model of another target on the same inputs
       * flips 10.8 %, moves them 0.12 on average and 0.91 at p99. Each fails only when its lower
       * confidence bound passes the threshold.
       */
      max_label_flip_rate: z.number().min(0).max(1).default(0.05),
      /** |a − b| / max(|a|, |b|, 1) per score: absolute for probabilities, relative for large values. */
      max_relative_delta_mean: z.number().min(0).default(0.1),
      max_relative_delta_p99: z.number().min(0).default(0.5),
    })
    .prefault({}),
  /** Keep the old deployment (at 0 %) after promotion instead of deleting it. */
  keep_old: z.boolean().default(false),
});

export type RolloutSpec = z.infer<typeof rolloutSchema>;

/** The flags of `pier rollout start` that override the file's values. */
interface RolloutFlags {
  strategy?: "canary" | "linear" | "all_at_once";
  canarySize?: number;
  linearStepSize?: number;
  waitSeconds?: number;
  terminationWaitSeconds?: number;
  maxSeconds?: number;
  shadowPercent?: number;
  keepOld?: boolean;
}

/** A rollout spec from an optional YAML document (already parsed) and flags; smoke files are read relative to `baseDir`. */
export function parseRolloutSpec(
  document: unknown,
  flags: RolloutFlags,
  source: string,
  baseDir: string,
): RolloutSpec {
  const base = (document ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const merged = {
    ...base,
    strategy: {
      ...base.strategy,
      ...(flags.strategy ? { type: flags.strategy } : {}),
      ...(flags.canarySize !== undefined ? { canary_size: flags.canarySize } : {}),
      ...(flags.linearStepSize !== undefined ? { linear_step_size: flags.linearStepSize } : {}),
      ...(flags.waitSeconds !== undefined ? { wait_interval_seconds: flags.waitSeconds } : {}),
    },
    shadow: {
      ...base.shadow,
      ...(flags.shadowPercent !== undefined ? { mirror_percent: flags.shadowPercent } : {}),
    },
    ...(flags.terminationWaitSeconds !== undefined
      ? { termination_wait_seconds: flags.terminationWaitSeconds }
      : {}),
    ...(flags.maxSeconds !== undefined ? { maximum_execution_timeout_seconds: flags.maxSeconds } : {}),
    ...(flags.keepOld !== undefined ? { keep_old: flags.keepOld } : {}),
  };
  const spec = checkSpec(rolloutSchema, merged, source, "rollout", "the rollout file keys in the README");
  // Smoke files become inline bodies here, so the plan that is stored needs nothing else.
  spec.smoke.requests = spec.smoke.requests.map((request) => {
    if (!("file" in request) || typeof request.file !== "string" || Object.keys(request).length !== 1)
      return request;
    const path = resolve(baseDir, request.file);
    try {
      return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    } catch (error) {
      throw userError(
        "BadArgument",
        `${source}: smoke request file ${path} cannot be read as JSON (${(error as Error).message.split("\n")[0]})`,
        "Point smoke.requests[].file at a JSON request body, relative to the rollout file.",
      );
    }
  });
  return spec;
}

/** Reads a rollout YAML file and applies the flags. */
export function loadRolloutFile(path: string | undefined, flags: RolloutFlags, cwd: string): RolloutSpec {
  if (path === undefined) return parseRolloutSpec({}, flags, "the rollout flags", cwd);
  const full = resolve(cwd, path);
  let document: unknown;
  try {
    document = parse(readFileSync(full, "utf8"));
  } catch (error) {
    throw userError(
      "BadArgument",
      `${full} cannot be read as YAML (${(error as Error).message.split("\n")[0]})`,
      "Check the path given with --rollout and the file's YAML syntax.",
    );
  }
  if (document !== null && (typeof document !== "object" || Array.isArray(document)))
    throw userError(
      "BadArgument",
      `${full} must hold a YAML mapping`,
      "See the rollout file keys in the README.",
    );
  return parseRolloutSpec(document, flags, full, dirname(full));
}
