/**
 * An MLflow 3 model handed to KServe: kserve-mlserver lists mlflow "1" and "2" only, so the export
 * must name a version a runtime serves and say what it approximated. The model is a public MLflow
 * sklearn folder (test/fixtures/mlflow/svc-tensor-output) with its MLmodel written as MLflow 3 writes
 * it (mlflow_version 3.1.0, model_id), registered in a real registry.
 */
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { parseDeploymentSpec } from "../../src/config/index.js";
import { blankEvidence } from "../../src/engine/index.js";
import { exportKserve } from "../../src/export/kserve.js";
import { checkExportDir } from "../../src/export/validate.js";
import { materializeBlobs, Registry } from "../../src/registry/index.js";
import { FIXTURES, tempDir } from "../helpers.js";

test("an MLflow 3 model exported to KServe names a version kserve-mlserver lists, and says so", async (t) => {
  const home = tempDir(t);
  const folder = join(tempDir(t), "model");
  cpSync(join(FIXTURES, "mlflow/svc-tensor-output"), folder, { recursive: true });
  const mlmodel = join(folder, "MLmodel");
  writeFileSync(
    mlmodel,
    `${readFileSync(mlmodel, "utf8")}mlflow_version: 3.1.0\nmodel_id: m-0123456789abcdef\n`,
  );
  const registry = Registry.open(home);
  t.after(() => registry.close());
  const version = await registry.register(folder, { name: "svc3" });
  const spec = parseDeploymentSpec(
    { name: "svc", endpoint_name: "skl", model: folder, instance_type: "Standard_DS3_v2", instance_count: 1 },
    "svc.yml",
  ).spec;
  const out = tempDir(t);
  const result = exportKserve(
    {
      endpoint: {
        name: "skl",
        spec: { name: "skl", auth_mode: "key" } as never,
        traffic: { svc: 100 },
        mirrorTraffic: {},
      },
      deployments: [
        {
          name: "svc",
          spec,
          model: version,
          code: null,
          evidence: blankEvidence(spec, 2 ** 33, "Succeeded"),
        },
      ],
      materialize: (files, dir) => materializeBlobs(registry.store.root, files, dir),
    },
    out,
    "gs://bucket/skl",
  );
  const isvc = parse(readFileSync(join(out, "skl.yaml"), "utf8"));
  assert.deepEqual(isvc.spec.predictor.model.modelFormat, { name: "mlflow", version: "2" });
  const note = result.notCarried.find((n) => n.what === "mlflow_version 3.1.0");
  assert.ok(note, JSON.stringify(result.notCarried));
  assert.match(note.why, /kserve-mlserver lists mlflow 2 and 1 only/);
  assert.deepEqual(checkExportDir(out).findings, [], "KServe's checks take what was written");
  // Left at "3", KServe would find no runtime: --check says so.
  writeFileSync(
    join(out, "skl.yaml"),
    readFileSync(join(out, "skl.yaml"), "utf8").replace('version: "2"', 'version: "3"'),
  );
  assert.match(
    checkExportDir(out)
      .findings.map((f) => f.message)
      .join("\n"),
    /does not serve modelFormat mlflow version 3/,
  );
});
