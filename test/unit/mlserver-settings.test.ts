import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkModelSettings, mlflowSettings } from "../../src/export/mlserver-settings.js";
import { tempDir } from "../helpers.js";

test("MLServer's model-settings.json: what pier writes passes, and what MLServer could not load is named", (t) => {
  const folder = tempDir(t);
  writeFileSync(join(folder, "MLmodel"), "flavors: {}\n");
  assert.deepEqual(checkModelSettings(mlflowSettings("fin"), folder, ["fin"]), []);
  assert.deepEqual(checkModelSettings({ ...mlflowSettings("fin"), name: "other" }, folder, ["fin"]), [
    'name "other" is no InferenceService\'s name here (fin): KServe serves the model under that name in the v2 path',
  ]);
  assert.match(
    checkModelSettings({ name: "fin", implementation: "mlserver_mlflow.Runtime" }, folder, [])[0]!,
    /^implementation mlserver_mlflow\.Runtime is not a runtime MLServer ships/,
  );
  mkdirSync(join(folder, "empty"));
  assert.deepEqual(
    checkModelSettings({ ...mlflowSettings("fin"), parameters: { uri: "./empty" } }, folder, []),
    ["parameters.uri ./empty has no MLmodel: MLServer's MLflow runtime loads an MLflow model folder"],
  );
  assert.deepEqual(
    checkModelSettings({ ...mlflowSettings("fin"), parameters: { uri: "./gone" } }, folder, []),
    ["parameters.uri ./gone does not exist beside model-settings.json"],
  );
  assert.deepEqual(
    checkModelSettings({ ...mlflowSettings("fin"), parameters: { uri: "s3://b/m" } }, folder, []),
    [],
  );
  assert.deepEqual(checkModelSettings([], folder, []), ["not a JSON object"]);
});
