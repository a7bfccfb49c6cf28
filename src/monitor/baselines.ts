/**
 * Where a model version's baseline comes from: one made with `pier monitor baseline` (kept under the
 * home at monitoring/baselines/{model}/{version}.json), else the baseline.json `pier train` put in the
 * model package. Either is checked for its schema before use.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BASELINE_FILE, BASELINE_SCHEMA, type Baseline } from "../baseline/index.js";
import type { Registry } from "../registry/index.js";
import { userError } from "../shared/index.js";

const baselinePath = (home: string, model: string, version: number) =>
  join(home, "monitoring", "baselines", encodeURIComponent(model), `${version}.json`);

export interface FoundBaseline {
  baseline: Baseline;
  /** "pier monitor baseline" or "model package". */
  origin: string;
}

function parseBaseline(text: string, where: string): Baseline {
  let value: Baseline;
  try {
    value = JSON.parse(text) as Baseline;
  } catch {
    throw userError("BadArgument", `${where} is not JSON`, "Make it again with pier monitor baseline.");
  }
  if (value?.schema !== BASELINE_SCHEMA || typeof value.features !== "object")
    throw userError(
      "BadArgument",
      `${where} is not a pier baseline (schema ${JSON.stringify(value?.schema)})`,
      "Make it again with pier monitor baseline.",
    );
  value.predictions ??= {};
  return value;
}

/** A model version's baseline, undefined when it has none. */
export function findBaseline(
  home: string,
  registry: Registry,
  model: string,
  version: number,
): FoundBaseline | undefined {
  const own = baselinePath(home, model, version);
  if (existsSync(own))
    return { baseline: parseBaseline(readFileSync(own, "utf8"), own), origin: "pier monitor baseline" };
  const entry = registry.getVersion(model, version).artifacts.find((a) => a.path === BASELINE_FILE);
  if (!entry) return undefined;
  const blob = registry.store.blobPath(entry.sha256);
  if (!existsSync(blob)) return undefined;
  return {
    baseline: parseBaseline(readFileSync(blob, "utf8"), `${BASELINE_FILE} of models:/${model}/${version}`),
    origin: "model package",
  };
}

/** Keeps a baseline for a model version (replacing one made before); returns where. */
export function saveBaseline(home: string, model: string, version: number, baseline: Baseline): string {
  const path = baselinePath(home, model, version);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(baseline)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return path;
}
