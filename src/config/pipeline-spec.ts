/**
 * The pipeline YAML of `pier pipeline run`: where the data comes from, the target and the training
 * settings, the evaluation gate (MLflow's MetricThreshold per metric), an optional human approval,
 * the registered model, and the rollout to the endpoint (a deployment template and a rollout spec
 * as `pier rollout` takes them). Strict: an unknown key is an error naming it.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { checkSpec } from "./load.js";
import { parseRolloutSpec, type RolloutSpec } from "./rollout-spec.js";

const METRICS = ["roc_auc", "accuracy", "precision", "recall", "f1_score"] as const;

/** mlflow.models.MetricThreshold. */
const thresholdSchema = z
  .strictObject({
    /** The challenger must reach this value. */
    threshold: z.number().optional(),
    /** The challenger must beat the champion by at least this much (absolute). */
    min_absolute_change: z.number().min(0).optional(),
    /** …or by this share of the champion's value (0–1). */
    min_relative_change: z.number().min(0).max(1).optional(),
    greater_is_better: z.boolean(),
  })
  .refine(
    (t) =>
      t.threshold !== undefined || t.min_absolute_change !== undefined || t.min_relative_change !== undefined,
    {
      message: "give threshold, min_absolute_change or min_relative_change",
    },
  );

const pipelineSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z][\w-]{0,63}$/, "a letter, then letters, digits, _ or -"),
  description: z.string().optional(),
  data: z.union([
    z.strictObject({ path: z.string().min(1) }),
    z.strictObject({
      synthetic: z.strictObject({
        rows: z.number().int().min(100).max(1_000_000).default(5000),
        seed: z.number().int().min(0).default(42),
      }),
    }),
  ]),
  /** The eight financial-behaviour inputs are fixed; the target is chosen. */
  target: z.string().min(1).default("HighAmount"),
  train: z
    .strictObject({
      seed: z.number().int().min(0).default(42),
      test_fraction: z.number().gt(0).lt(1).default(0.2),
      /** Random-search candidates (0: the settings below). */
      search: z.number().int().min(0).max(200).default(0),
      folds: z.number().int().min(2).max(10).default(3),
      n_estimators: z.number().int().min(1).max(1000).optional(),
      max_depth: z.number().int().min(1).max(64).optional(),
      min_samples_leaf: z.number().int().min(1).optional(),
    })
    .prefault({}),
  gate: z
    .strictObject({
      metrics: z
        .partialRecord(z.enum(METRICS), thresholdSchema)
        .default({ roc_auc: { threshold: 0.7, greater_is_better: true } }),
      /** A single input that separates the target by itself: reject (the default), or only warn. */
      leakage: z.enum(["reject", "warn"]).default("reject"),
    })
    .prefault({}),
  approval: z.strictObject({ required: z.boolean().default(false) }).prefault({}),
  register: z.strictObject({ model: z.string().regex(/^[A-Za-z0-9][\w.-]{0,127}$/) }),
  rollout: z.strictObject({
    endpoint: z.string().min(3),
    /** The deployment's settings (its name and model are the run's). */
    deployment: z
      .strictObject({
        instance_type: z.string().default("Standard_F2s_v2"),
        instance_count: z.number().int().min(1).max(20).default(1),
        request_settings: z.record(z.string(), z.unknown()).optional(),
        environment_variables: z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
          .optional(),
        data_collector: z.record(z.string(), z.unknown()).optional(),
      })
      .prefault({}),
    /** As a rollout YAML: strategy, shadow, analysis, … */
    spec: z.record(z.string(), z.unknown()).default({}),
  }),
});

export type PipelineSpec = Omit<z.infer<typeof pipelineSchema>, "rollout"> & {
  rollout: z.infer<typeof pipelineSchema>["rollout"] & { parsed: RolloutSpec };
};
export type GateThreshold = z.infer<typeof thresholdSchema>;

export function parsePipelineSpec(document: unknown, source: string, baseDir: string): PipelineSpec {
  const spec = checkSpec(pipelineSchema, document, source, "pipeline", "the README's pipeline YAML section");
  const data = "path" in spec.data ? { path: resolve(baseDir, spec.data.path) } : spec.data;
  return {
    ...spec,
    data,
    rollout: {
      ...spec.rollout,
      parsed: parseRolloutSpec(spec.rollout.spec, {}, `${source}: rollout.spec`, baseDir),
    },
  };
}
