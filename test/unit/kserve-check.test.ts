/**
 * `pier export kserve --check` against KServe's CRD as the API server applies it, on documents written
 * the way people edit them: kubectl's strict field validation (an unknown field is refused), int32
 * bounds, quantities that are an integer or a string of the right shape, metadata limited to
 * ObjectMeta, list-map keys unique. The CRD is the vendored v1beta1 schema (data/kserve).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { checkExportDir } from "../../src/export/index.js";

/** An InferenceService for Triton, shaped as KServe's own docs write one. */
const tritonIsvc = () => ({
  apiVersion: "serving.kserve.io/v1beta1",
  kind: "InferenceService",
  metadata: { name: "fin-behavior", annotations: { "serving.kserve.io/deploymentMode": "RawDeployment" } },
  spec: {
    predictor: {
      minReplicas: 1,
      maxReplicas: 3,
      model: {
        modelFormat: { name: "onnx" },
        protocolVersion: "v2",
        runtime: "kserve-tritonserver",
        storageUri: "s3://models/fin/blue/triton",
        resources: { limits: { cpu: "1", memory: "2Gi" }, requests: { cpu: 1, memory: "1Gi" } },
        env: [{ name: "OMP_NUM_THREADS", value: "1" }],
      },
    },
  },
});

function check(t: { after: (fn: () => void) => void }, doc: unknown) {
  const dir = mkdtempSync(join(tmpdir(), "pier-kserve-check-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "isvc.yaml"), stringify(doc));
  return checkExportDir(dir).findings.filter((f) => f.rule === "kserve-crd");
}

test("an InferenceService as KServe's docs write it checks out", (t) => {
  assert.deepEqual(check(t, tritonIsvc()), []);
});

test("an unknown field is refused where kubectl apply refuses it, with its path", (t) => {
  const doc = tritonIsvc();
  (doc.spec.predictor.model as Record<string, unknown>).storageURI = "s3://typo";
  (doc.metadata as Record<string, unknown>).label = { team: "risk" };
  const findings = check(t, doc);
  assert.deepEqual(
    findings.map((f) => f.path),
    ["/metadata/label", "/spec/predictor/model/storageURI"],
  );
  assert.match(findings[1]!.message, /unknown field "storageURI".*Strict/);
});

test("types and bounds: int32 overflow, a replica count as text, a quantity of the wrong shape", (t) => {
  const doc = tritonIsvc();
  Object.assign(doc.spec.predictor, { minReplicas: "one", maxReplicas: 2 ** 31 });
  doc.spec.predictor.model.resources.limits.memory = "2 GB";
  const findings = check(t, doc);
  const at = (path: string) => findings.find((f) => f.path === path)?.message ?? "(none)";
  assert.match(at("/spec/predictor/minReplicas"), /must be of type integer, not string/);
  assert.match(at("/spec/predictor/maxReplicas"), /2147483648 does not fit in int32/);
  assert.match(at("/spec/predictor/model/resources/limits/memory"), /must match/);
  assert.equal(findings.length, 3, JSON.stringify(findings));
});

test("a list keyed by name takes each name once", (t) => {
  const doc = tritonIsvc();
  doc.spec.predictor.model.env.push({ name: "OMP_NUM_THREADS", value: "2" });
  const [finding] = check(t, doc);
  assert.equal(finding?.path, "/spec/predictor/model/env/1");
  assert.match(finding!.message, /duplicate entry for name \(item 0 has it\)/);
});
