/**
 * KServe's admission webhook, case by case: each case is one of KServe v0.20.0's own table tests
 * (pkg/apis/serving/v1beta1/inference_service_validation_test.go, cited by function and line), written
 * as the JSON `kubectl apply` would send, with the error KServe's test expects (null: accepted).
 * KServe stops at its first error, so a case compares pier's first finding.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { webhookFindings } from "../../src/export/kserve-webhook.js";
import { checkInferenceService, kserveRuntimes, runtimeSelection } from "../../src/export/validate.js";

// biome-ignore lint/suspicious/noExplicitAny: documents are edited freely, as a user edits YAML
type Doc = Record<string, any>;

/** makeTestInferenceService (:61): a Tensorflow predictor named foo. */
function base(): Doc {
  return {
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: { name: "foo", namespace: "default" },
    spec: {
      predictor: {
        tensorflow: { storageUri: "gs://testbucket/testmodel", runtimeVersion: "0.14.0" },
      },
    },
  };
}

const with_ = (edit: (d: Doc) => void): Doc => {
  const doc = base();
  edit(doc);
  return doc;
};
const standard = (cls: string) => (d: Doc) => {
  d.metadata.annotations = {
    "serving.kserve.io/deploymentMode": "Standard",
    "serving.kserve.io/autoscalerClass": cls,
  };
};

const PREDICTOR_ONE_OF =
  "exactly one of [Name, SKLearn, XGBoost, Tensorflow, PyTorch, Triton, ONNX, HuggingFace, PMML, LightGBM, Paddle, Model, StorageUris, StorageContainerName, WorkerSpec, PodSpec] must be specified in PredictorSpec";

const CASES: [cite: string, doc: Doc, expected: string | RegExp | null][] = [
  ["TestGoodName :781", with_((d) => (d.metadata.name = "abc-123")), null],
  [
    "TestRejectBadNameStartWithNumber :791",
    with_((d) => (d.metadata.name = "1abcde")),
    /^the InferenceService "1abcde" is invalid: a InferenceService name must consist of lower case alphanumeric characters or '-', and must start with alphabetical character/,
  ],
  ["TestRejectBadNameIncludeDot :801", with_((d) => (d.metadata.name = "abc.de")), /"abc\.de" is invalid/],
  ["TestRejectMultipleModelSpecs :584", with_((d) => (d.spec.predictor.xgboost = {})), PREDICTOR_ONE_OF],
  [
    "TestCustomizeDeploymentStrategyUnsupportedForServerless :594",
    with_((d) => {
      d.spec.predictor.serviceAccountName = "test";
      d.spec.predictor.deploymentStrategy = { type: "Recreate" };
    }),
    "customizing deploymentStrategy is only supported for raw deployment mode",
  ],
  [
    "TestModelSpecAndCustomOverridesIsValid :607",
    with_((d) => (d.spec.predictor.serviceAccountName = "test")),
    null,
  ],
  ["TestRejectModelSpecMissing :617", with_((d) => delete d.spec.predictor.tensorflow), PREDICTOR_ONE_OF],
  [
    "TestBadParallelismValues :627",
    with_((d) => (d.spec.predictor.containerConcurrency = -1)),
    "parallelism cannot be less than 0",
  ],
  [
    "TestBadReplicaValues :640 (min -1)",
    with_((d) => (d.spec.predictor.minReplicas = -1)),
    "'MinReplicas' cannot be less than 0",
  ],
  [
    "TestBadReplicaValues :647 (max -1)",
    with_((d) => Object.assign(d.spec.predictor, { minReplicas: 1, maxReplicas: -1 })),
    "'MaxReplicas' cannot be less than 0",
  ],
  [
    "TestBadReplicaValues :652 (min 2 > max 1)",
    with_((d) => Object.assign(d.spec.predictor, { minReplicas: 2, maxReplicas: 1 })),
    "'MinReplicas' cannot be greater than MaxReplicas",
  ],
  [
    "TestBadReplicaValues :670 (a transformer's min -1)",
    with_((d) => {
      Object.assign(d.spec.predictor, { minReplicas: 0, maxReplicas: 0 });
      d.spec.transformer = { containers: [{ image: "some-image" }], minReplicas: -1 };
    }),
    "'MinReplicas' cannot be less than 0",
  ],
  [
    "TestCustomOK :715 (a kserve-container)",
    with_((d) => {
      delete d.spec.predictor.tensorflow;
      d.spec.predictor.containers = [{ name: "kserve-container", image: "some-image" }];
    }),
    null,
  ],
  [
    "TestCustomOK :732 (an unnamed container)",
    with_((d) => {
      delete d.spec.predictor.tensorflow;
      d.spec.predictor.containers = [{ image: "some-image" }];
    }),
    null,
  ],
  [
    "TestRejectBadTransformer :745",
    with_((d) => (d.spec.transformer = {})),
    "exactly one of [PodSpec] must be specified in TransformerSpec",
  ],
  [
    "TestRejectBadExplainer :755",
    with_((d) => (d.spec.explainer = {})),
    "exactly one of [ART, PodSpec] must be specified in ExplainerSpec",
  ],
  [
    "TestGoodExplainer :765",
    with_((d) => (d.spec.explainer = { art: { storageUri: "gs://testbucket/testmodel" } })),
    null,
  ],
  [
    "TestAutoscalerClassHPA :87 (cpu, 80)",
    with_((d) => {
      standard("hpa")(d);
      Object.assign(d.spec.predictor, { scaleMetric: "cpu", scaleTarget: 80 });
    }),
    null,
  ],
  [
    "TestAutoscalerClassHPA :114 (autoScaling cpu 80)",
    with_((d) => {
      standard("hpa")(d);
      d.spec.predictor.autoScaling = {
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { averageUtilization: 80 } } }],
      };
    }),
    null,
  ],
  [
    "TestAutoscalerClassHPA :190 (a Resource metric without its resource)",
    with_((d) => {
      standard("hpa")(d);
      d.spec.predictor.autoScaling = { metrics: [{ type: "Resource" }] };
    }),
    "metricSpec.Resource is not set for resource metric source type",
  ],
  [
    "TestAutoscalerClassHPA :222 (an External metric for HPA)",
    with_((d) => {
      standard("hpa")(d);
      d.spec.predictor.autoScaling = {
        metrics: [{ type: "External", external: { metric: { query: "q" } } }],
      };
    }),
    "invalid HPA metric source type with value [External],valid metric source types are Resource",
  ],
  [
    "TestAutoscalerClassHPA :282 (cpu target 120)",
    with_((d) => {
      standard("hpa")(d);
      Object.assign(d.spec.predictor, {
        scaleMetric: "cpu",
        scaleMetricType: "Utilization",
        scaleTarget: 120,
      });
    }),
    "the target utilization percentage should be a [1-100] integer",
  ],
  [
    "TestAutoscalerClassHPA :310 (memory 10)",
    with_((d) => {
      standard("hpa")(d);
      Object.assign(d.spec.predictor, { scaleMetric: "memory", scaleTarget: 10 });
    }),
    null,
  ],
  [
    "TestAutoscalerClassHPA :337 (class test)",
    with_((d) => {
      standard("test")(d);
      Object.assign(d.spec.predictor, { scaleMetric: "memory", scaleTarget: 10 });
    }),
    "[test] is not a supported autoscaler class type",
  ],
  [
    "TestValidateBlockedEnvVars :1942 (PYTHONPATH in the model's container)",
    {
      apiVersion: "serving.kserve.io/v1beta1",
      kind: "InferenceService",
      metadata: { name: "test-isvc" },
      spec: {
        predictor: {
          model: { modelFormat: { name: "sklearn" }, env: [{ name: "PYTHONPATH", value: "/custom" }] },
        },
      },
    },
    /PYTHONPATH/,
  ],
  [
    "TestValidateBlockedEnvVars :1962 (PYTHONPATH in a custom container)",
    {
      apiVersion: "serving.kserve.io/v1beta1",
      kind: "InferenceService",
      metadata: { name: "test-isvc" },
      spec: {
        predictor: {
          containers: [{ name: "kserve-container", env: [{ name: "PYTHONPATH", value: "/injected" }] }],
        },
      },
    },
    /PYTHONPATH/,
  ],
];

test("KServe's webhook cases: accepted and refused as KServe's own tests say, with KServe's words", () => {
  const disagreements: string[] = [];
  for (const [cite, doc, expected] of CASES) {
    const first = webhookFindings("isvc.yaml", doc)[0]?.message ?? null;
    const agrees =
      expected === null
        ? first === null
        : first !== null && (typeof expected === "string" ? first === expected : expected.test(first));
    if (!agrees) disagreements.push(`${cite}: expected ${String(expected)}, got ${String(first)}`);
  }
  assert.deepEqual(disagreements, [], `${disagreements.length} of ${CASES.length} cases disagree`);
});

test("--check accepts what KServe accepts: canary 0 and 100, hdfs://, a storage spec in place of storageUri", () => {
  const isvc = (predictor: Doc): Doc => ({
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: { name: "fin" },
    spec: { predictor: { model: { modelFormat: { name: "sklearn" }, protocolVersion: "v2", ...predictor } } },
  });
  const findings = (doc: Doc) => checkInferenceService("fin.yaml", doc).map((f) => `${f.rule}: ${f.message}`);
  for (const percent of [0, 100]) {
    const doc = isvc({ storageUri: "gs://m/fin" });
    doc.spec.predictor.canaryTrafficPercent = percent;
    assert.deepEqual(findings(doc), [], `canaryTrafficPercent ${percent}`);
  }
  assert.deepEqual(findings(isvc({ storageUri: "hdfs://namenode/models/fin" })), []);
  assert.deepEqual(findings(isvc({ storage: { key: "localMinIO", path: "sklearn/model" } })), []);
  // And refuses what the webhook refuses, through the same --check.
  const bad = isvc({ storageUri: "gs://m/fin" });
  bad.metadata.name = "1fin";
  assert.match(findings(bad)[0]!, /^validateInferenceServiceName: /);
});

test("runtime selection as KServe reconciles: format versions a runtime lists, protocols with KServe's default, every runtime KServe installs", () => {
  const select = (model: Doc) => runtimeSelection(model, kserveRuntimes());
  const mlflow = (version: string | undefined) => ({
    modelFormat: { name: "mlflow", ...(version ? { version } : {}) },
    protocolVersion: "v2",
  });
  // kserve-mlserver lists mlflow "1" and "2": "3" and "2.9.2" find no runtime.
  assert.equal(select(mlflow("2")), undefined);
  assert.equal(select(mlflow(undefined)), undefined);
  assert.match(
    select(mlflow("3"))!,
    /no runtime serves modelFormat mlflow version 3: KServe reports "No runtime found"/,
  );
  assert.match(select(mlflow("2.9.2"))!, /No runtime found/);
  // onnx and triton on Triton over v2 or grpc-v2; onnx over v1 (the default) goes to OpenVINO, triton over v1 nowhere.
  assert.equal(select({ modelFormat: { name: "onnx" }, protocolVersion: "grpc-v2" }), undefined);
  assert.equal(select({ modelFormat: { name: "triton" }, protocolVersion: "v2" }), undefined);
  assert.equal(select({ modelFormat: { name: "onnx" } }), undefined);
  assert.match(
    select({ modelFormat: { name: "triton" } })!,
    /no runtime auto-selects modelFormat triton for protocol v1 \(KServe's default when protocolVersion is not set\)/,
  );
  // A runtime named without a protocolVersion takes the runtime's own.
  assert.equal(select({ modelFormat: { name: "mlflow" }, runtime: "kserve-mlserver" }), undefined);
  assert.match(
    select({ modelFormat: { name: "mlflow" }, runtime: "kserve-mlserver", protocolVersion: "v1" })!,
    /does not speak protocol v1/,
  );
  // The runtimes KServe installs beyond the ones pier exports to.
  for (const format of ["tensorflow", "huggingface", "pytorch", "pmml", "paddle"])
    assert.equal(select({ modelFormat: { name: format } }), undefined, format);
});

test("--check takes the legacy framework specs and a transformer beside a model; two frameworks are KServe's one-of error", () => {
  const doc = (predictor: Doc, extra: Doc = {}): Doc => ({
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: { name: "legacy" },
    spec: { predictor, ...extra },
  });
  const rules = (d: Doc) => checkInferenceService("legacy.yaml", d).map((f) => `${f.rule}: ${f.message}`);
  assert.deepEqual(
    rules(doc({ sklearn: { storageUri: "gs://kfserving-examples/models/sklearn/1.0/model" } })),
    [],
  );
  assert.deepEqual(
    rules(
      doc(
        { model: { modelFormat: { name: "sklearn" }, storageUri: "gs://m/sk" } },
        {
          transformer: {
            containers: [{ name: "kserve-container", image: "kserve/image-transformer:latest" }],
          },
        },
      ),
    ),
    [],
  );
  assert.deepEqual(
    rules(doc({ sklearn: { storageUri: "gs://m/a" }, xgboost: { storageUri: "gs://m/b" } })).map(
      (r) => r.split(":")[0],
    ),
    ["validateExactlyOneImplementation"],
  );
});
