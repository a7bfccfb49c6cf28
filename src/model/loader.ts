/**
 * How an MLflow model is loaded, read from its flavors: ONNX Runtime for `onnx`, a pickle for
 * `sklearn` (or a pyfunc whose loader is mlflow.sklearn), a loader module for other `python_function`
 * models. The environment checks read it for what must be installed; the runtime for how to start
 * the host.
 */
import { PierError } from "../shared/index.js";
import type { MlModel } from "./mlmodel.js";

export type ModelLoader =
  | { kind: "onnx" }
  | {
      kind: "sklearn";
      modelFile: string;
      serialization: "pickle" | "cloudpickle";
      /** The pyfunc `code` folder (MLflow's code_paths), importable when the pickle loads ("" for none). */
      code: string;
    }
  | {
      kind: "pyfunc";
      loaderModule: string;
      /** The loader's data path inside the model folder ("" for none). */
      data: string;
      /** The pyfunc `code` folder, whose modules are importable at load ("" for none). */
      code: string;
      /** Whether the loader module ships in the model folder (or its code folder) rather than the interpreter. */
      shipped: boolean;
    };

/** What a loader needs: the model's flavors and the paths of its files. */
export interface LoadableModel {
  name: string;
  version: number;
  flavors: MlModel["flavors"];
  artifacts: readonly { path: string }[];
}

/** How `model` is loaded; RuntimeNotAvailable when no flavor is one pier serves. */
export function modelLoader(model: LoadableModel): ModelLoader {
  const { flavors } = model;
  if (flavors.onnx) return { kind: "onnx" };
  const sklearn = flavors.sklearn;
  const pyfunc = flavors.python_function ?? {};
  const code = typeof pyfunc.code === "string" ? pyfunc.code : "";
  if (sklearn || (pyfunc.loader_module === "mlflow.sklearn" && typeof pyfunc.model_path === "string")) {
    const serialization = String(sklearn?.serialization_format ?? "cloudpickle");
    if (serialization !== "pickle" && serialization !== "cloudpickle") {
      throw new PierError({
        code: "RuntimeNotAvailable",
        summary: `This sklearn model is saved with ${serialization}, which pier's Python host does not load yet`,
        fix: "Log the model with serialization_format=cloudpickle or pickle, or export it to ONNX.",
      });
    }
    return {
      kind: "sklearn",
      modelFile: String(sklearn?.pickled_model ?? pyfunc.model_path),
      serialization,
      code,
    };
  }
  if (typeof pyfunc.loader_module === "string") {
    const data =
      typeof pyfunc.data === "string"
        ? pyfunc.data
        : typeof pyfunc.model_path === "string"
          ? pyfunc.model_path
          : "";
    const top = pyfunc.loader_module.split(".")[0]!;
    const shipped = model.artifacts.some((a) =>
      [`${top}.py`, `${top}/__init__.py`].some((p) => a.path === p || a.path === `${code}/${p}`),
    );
    return { kind: "pyfunc", loaderModule: pyfunc.loader_module, data, code, shipped };
  }
  throw new PierError({
    code: "RuntimeNotAvailable",
    summary: `models:/${model.name}/${model.version} has flavors ${Object.keys(flavors).join(", ")}, none of which pier can serve`,
    fix: "Log the model with an onnx, sklearn or python_function flavor.",
  });
}
