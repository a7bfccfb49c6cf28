import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { baselineOfCsv } from "../../baseline/index.js";
import { saveBaseline } from "../../monitor/index.js";
import type { ModelVersion } from "../../registry/index.js";
import { userError } from "../../shared/index.js";
import { defineCommand, pierHome, required } from "../command.js";
import { withRegistry } from "./model-common.js";

const NUMERIC_TYPES = new Set(["double", "float", "long", "integer"]);

/** The model's named input columns and their kinds, from its signature; undefined for tensor models or none. */
function inputKinds(version: ModelVersion): Record<string, "number" | "category"> | undefined {
  const text = version.signature?.inputs;
  if (typeof text !== "string") return undefined;
  let entries: { type?: string; name?: string | number }[];
  try {
    entries = JSON.parse(text) as typeof entries;
  } catch {
    return undefined;
  }
  if (!Array.isArray(entries) || entries.some((e) => e.type === "tensor" || e.name === undefined))
    return undefined;
  return Object.fromEntries(
    entries.map((e) => [String(e.name), NUMERIC_TYPES.has(String(e.type)) ? "number" : "category"]),
  );
}

export const monitorBaseline = defineCommand({
  path: ["monitor", "baseline"],
  summary:
    "Make the baseline drift is measured against, from a CSV of training rows, for a model pier did not train",
  options: {
    model: {
      type: "string",
      valueName: "URI",
      description: "the registered model: models:/NAME/VERSION (required)",
    },
    data: {
      type: "string",
      valueName: "FILE.csv",
      description: "training rows with the model's inputs (required)",
    },
    predictions: {
      type: "string",
      valueName: "COL,…",
      description: "columns of the CSV holding the model's predictions on those rows, for prediction drift",
    },
  },
  examples: [
    "pier monitor baseline --model models:/credit/3 --data train.csv",
    "pier monitor baseline --model models:/credit/3 --data scored.csv --predictions prediction",
  ],
  async handler(args, ctx) {
    const uri = required(args.options.model, "--model", "--model models:/NAME/VERSION");
    const data = resolve(ctx.cwd, required(args.options.data, "--data", "--data train.csv"));
    let text: string;
    try {
      text = readFileSync(data, "utf8");
    } catch (error) {
      throw userError(
        "FileNotFound",
        `Cannot read ${data} (${(error as NodeJS.ErrnoException).code})`,
        "Check the path given to --data.",
      );
    }
    const predictions = (args.options.predictions ?? "")
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    return withRegistry(ctx, (registry) => {
      const version = registry.resolveUri(uri);
      const baseline = baselineOfCsv(text, data, inputKinds(version), predictions);
      const path = saveBaseline(pierHome(ctx), version.name, version.version, baseline);
      return {
        model: `models:/${version.name}/${version.version}`,
        path,
        rows: baseline.rows,
        features: Object.fromEntries(Object.entries(baseline.features).map(([k, v]) => [k, v.type])),
        predictions: Object.keys(baseline.predictions),
      };
    });
  },
  render(result, ctx) {
    const features = Object.entries(result.features);
    ctx.out(
      `✔ Baseline of ${result.model}: ${result.rows} rows, ${features.length} features (${features.map(([k, v]) => `${k} ${v}`).join(", ")})`,
    );
    if (result.predictions.length) ctx.out(`  predictions: ${result.predictions.join(", ")}`);
    else
      ctx.out(
        "  no prediction columns: prediction drift needs --predictions COL (the model's outputs on these rows)",
      );
    ctx.out(`  kept at ${result.path}; pier monitor compares captured inputs with it`);
  },
});
