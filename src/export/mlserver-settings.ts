/**
 * MLServer's model-settings.json beside a model handed to kserve-mlserver: the model's name as the v2
 * path says it, the runtime class that loads it (mlserver_mlflow.MLflowRuntime for an MLflow folder)
 * and parameters.uri, the folder it loads from. MLServer reads it from the model's storage folder; the
 * check names what MLServer's ModelSettings would refuse or could not load.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** The inference runtimes MLServer ships, by implementation class. */
const IMPLEMENTATIONS: Record<string, string> = {
  "mlserver_mlflow.MLflowRuntime": "mlflow",
  "mlserver_sklearn.SKLearnModel": "sklearn",
  "mlserver_xgboost.XGBoostModel": "xgboost",
  "mlserver_lightgbm.LightGBMModel": "lightgbm",
  "mlserver_huggingface.HuggingFaceRuntime": "huggingface",
  "mlserver_catboost.CatboostModel": "catboost",
  "mlserver_alibi_explain.AlibiExplainRuntime": "alibi-explain",
  "mlserver_alibi_detect.AlibiDetectRuntime": "alibi-detect",
  "mlserver_mllib.MLlibModel": "mllib",
};

export interface ModelSettings {
  name: string;
  implementation: string;
  parameters: { uri: string };
}

export function mlflowSettings(name: string): ModelSettings {
  return { name, implementation: "mlserver_mlflow.MLflowRuntime", parameters: { uri: "./" } };
}

/**
 * What MLServer would refuse in a model-settings.json found in `folder`; `names` are the
 * InferenceServices beside it (KServe serves an MLServer model under its InferenceService's name).
 */
export function checkModelSettings(value: unknown, folder: string, names: readonly string[]): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return ["not a JSON object"];
  const settings = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof settings.name !== "string" || settings.name === "") problems.push("name: a string is required");
  else if (names.length > 0 && !names.includes(settings.name))
    problems.push(
      `name "${settings.name}" is no InferenceService's name here (${names.join(", ")}): KServe serves the model under that name in the v2 path`,
    );
  const implementation = settings.implementation;
  if (typeof implementation !== "string")
    problems.push("implementation: a class path such as mlserver_mlflow.MLflowRuntime is required");
  else if (!(implementation in IMPLEMENTATIONS))
    problems.push(
      `implementation ${implementation} is not a runtime MLServer ships (${Object.keys(IMPLEMENTATIONS).join(", ")})`,
    );
  const parameters = settings.parameters;
  if (parameters !== undefined && (parameters === null || typeof parameters !== "object"))
    problems.push("parameters: an object is required");
  const uri = (parameters as Record<string, unknown> | undefined)?.uri;
  if (uri !== undefined) {
    if (typeof uri !== "string") problems.push("parameters.uri: a string is required");
    else if (!/^[a-z0-9+]+:\/\//.test(uri)) {
      const target = resolve(folder, uri);
      if (!existsSync(target))
        problems.push(`parameters.uri ${uri} does not exist beside model-settings.json`);
      else if (implementation === "mlserver_mlflow.MLflowRuntime" && !existsSync(join(target, "MLmodel")))
        problems.push(
          `parameters.uri ${uri} has no MLmodel: MLServer's MLflow runtime loads an MLflow model folder`,
        );
    }
  }
  return problems;
}
