/**
 * KServe's admission webhook for v1beta1 InferenceServices, ported from v0.20.0
 * (pkg/apis/serving/v1beta1/inference_service_validation.go, component.go and predictor.go; Apache-2.0):
 * what `kubectl apply` is refused with after the CRD's schema has passed. Each finding carries
 * KServe's own message and the rule's Go function as its rule name. KServe stops at its first error;
 * pier reports every one it finds, in KServe's order.
 *
 * Ported: validateInferenceServiceName, validateInferenceServiceAutoscaler, validateBlockedEnvVars
 * (PYTHONPATH, the variable KServe's tests block; the message's wording is pier's, the Go constant is
 * outside the vendored files), validatePredictor's `name` rule, validateMultipleStorageURIs (storageUri
 * with storageUris), validateExactlyOneImplementation, ComponentExtensionSpec.Validate (containerConcurrency,
 * replicas, logger) and validateAutoScalingCompExtension (KPA in Knative mode; HPA and KEDA in Standard
 * mode, without KEDA's metric details). Not ported: multi-node, confidential serving, the `spec.canaries`
 * list and update-only rules (deploymentMode or predictor name changes), which need the object's history.
 */
import type { CheckFinding } from "./validate.js";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** IsvcNameFmt. */
const ISVC_NAME_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
const ISVC_NAME = new RegExp(`^${ISVC_NAME_FMT}$`);
/** constants.AutoscalerAllowedClassList, AutoscalerAllowedHPAMetricsList, AutoscalerAllowedKPAMetricsList. */
const AUTOSCALER_CLASSES = ["hpa", "external", "none", "keda"];
const HPA_METRICS = ["cpu", "memory"];
const KPA_METRICS = ["concurrency", "rps"];
const BLOCKED_ENV = ["PYTHONPATH"];

/** The implementations of each component, in its Go struct's field order (for ExactlyOneErrorFor). */
const IMPLEMENTATIONS = {
  predictor: {
    type: "PredictorSpec",
    keys: [
      "sklearn",
      "xgboost",
      "tensorflow",
      "pytorch",
      "triton",
      "onnx",
      "huggingface",
      "pmml",
      "lightgbm",
      "paddle",
      "model",
    ],
    // ExactlyOneErrorFor names every field but the last (the inlined ComponentExtensionSpec).
    fields:
      "Name, SKLearn, XGBoost, Tensorflow, PyTorch, Triton, ONNX, HuggingFace, PMML, LightGBM, Paddle, Model, StorageUris, StorageContainerName, WorkerSpec, PodSpec",
  },
  transformer: { type: "TransformerSpec", keys: [], fields: "PodSpec" },
  explainer: { type: "ExplainerSpec", keys: ["art"], fields: "ART, PodSpec" },
} as const;

/** The container that serves the component's model: the implementation's own (inlined) or the kserve-container. */
function containersOf(component: Json, keys: readonly string[]): Json[] {
  const containers = Array.isArray(component.containers) ? component.containers.filter(isObject) : [];
  const initContainers = Array.isArray(component.initContainers)
    ? component.initContainers.filter(isObject)
    : [];
  const framework = keys.map((k) => component[k]).filter(isObject);
  return [...containers, ...initContainers, ...framework];
}

/** GetImplementations: the framework specs present, and a custom predictor for its containers. */
function implementationsOf(component: Json, keys: readonly string[]): Json[] {
  const present = keys.map((k) => component[k]).filter(isObject);
  const containers = Array.isArray(component.containers) ? component.containers.filter(isObject) : [];
  if (containers.length === 0) return present;
  const named = containers.filter((c) => c.name === "kserve-container");
  return [...present, ...(named.length > 0 ? named : present.length === 0 ? [containers[0]!] : [])];
}

/** The admission webhook's findings for one InferenceService document (already of the right kind). */
export function webhookFindings(file: string, doc: Json): CheckFinding[] {
  const findings: CheckFinding[] = [];
  const add = (path: string, rule: string, message: string) => findings.push({ file, path, rule, message });
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const name = String(metadata.name ?? "");
  const annotations = isObject(metadata.annotations) ? (metadata.annotations as Record<string, unknown>) : {};
  const spec = isObject(doc.spec) ? doc.spec : {};

  if (!ISVC_NAME.test(name))
    add(
      "/metadata/name",
      "validateInferenceServiceName",
      `the InferenceService "${name}" is invalid: a InferenceService name must consist of lower case alphanumeric characters or '-', and must start with alphabetical character. (e.g. "my-name" or "abc-123", regex used for validation is '${ISVC_NAME_FMT}')`,
    );
  const autoscalerClass = annotations["serving.kserve.io/autoscalerClass"];
  if (autoscalerClass !== undefined && !AUTOSCALER_CLASSES.includes(String(autoscalerClass)))
    add(
      "/metadata/annotations/serving.kserve.io~1autoscalerClass",
      "validateInferenceServiceAutoscaler",
      `[${String(autoscalerClass)}] is not a supported autoscaler class type`,
    );

  const components = (["predictor", "transformer", "explainer"] as const).flatMap((kind) =>
    isObject(spec[kind]) ? [[kind, spec[kind] as Json] as const] : [],
  );
  for (const [kind, component] of components)
    for (const container of containersOf(component, IMPLEMENTATIONS[kind].keys)) {
      const env = Array.isArray(container.env) ? container.env.filter(isObject) : [];
      for (const variable of env)
        if (BLOCKED_ENV.includes(String(variable.name)))
          add(
            `/spec/${kind}`,
            "validateBlockedEnvVars",
            `the InferenceService "${name}" is invalid: environment variable ${String(variable.name)} is not allowed (it would override the serving runtime's module path)`,
          );
    }

  const predictor = isObject(spec.predictor) ? spec.predictor : undefined;
  if (predictor) {
    for (const key of IMPLEMENTATIONS.predictor.keys)
      if (isObject(predictor[key]) && (predictor[key] as Json).name !== undefined)
        add(
          `/spec/predictor/${key}/name`,
          "validatePredictor",
          "the 'name' field is not allowed in standard predictor",
        );
  }

  for (const [kind, component] of components) {
    const { keys, type, fields } = IMPLEMENTATIONS[kind];
    const implementations = implementationsOf(component, keys);
    const storageUri = implementations.length > 0 ? implementations[0]!.storageUri : undefined;
    if (storageUri !== undefined && component.storageUris !== undefined)
      add(
        `/spec/${kind}/storageUris`,
        "validateMultipleStorageURIs",
        "Setting both StorageURI and StorageURIs is not supported.",
      );
    if (implementations.length !== 1)
      add(
        `/spec/${kind}`,
        "validateExactlyOneImplementation",
        `exactly one of [${fields}] must be specified in ${type}`,
      );
    extensionFindings(kind, component, annotations, add);
  }
  return findings;
}

/** ComponentExtensionSpec.Validate and validateAutoScalingCompExtension for one component. */
function extensionFindings(
  kind: string,
  c: Json,
  annotations: Record<string, unknown>,
  add: (path: string, rule: string, message: string) => void,
): void {
  const at = (field: string) => `/spec/${kind}/${field}`;
  if (typeof c.containerConcurrency === "number" && c.containerConcurrency < 0)
    add(at("containerConcurrency"), "validateContainerConcurrency", "parallelism cannot be less than 0");
  const min = typeof c.minReplicas === "number" ? c.minReplicas : 1;
  const max = typeof c.maxReplicas === "number" ? c.maxReplicas : 0;
  if (min < 0) add(at("minReplicas"), "validateReplicas", "'MinReplicas' cannot be less than 0");
  else if (max < 0) add(at("maxReplicas"), "validateReplicas", "'MaxReplicas' cannot be less than 0");
  else if (min > max && max !== 0)
    add(at("minReplicas"), "validateReplicas", "'MinReplicas' cannot be greater than MaxReplicas");
  if (isObject(c.logger)) {
    const logger = c.logger;
    if (!["all", "request", "response"].includes(String(logger.mode)))
      add(at("logger/mode"), "validateLogger", "invalid logger type");
    else if (isObject(logger.storage)) {
      const s = logger.storage;
      if (s.path === undefined || s.parameters === undefined || s.key === undefined)
        add(at("logger/storage"), "validateLogger", "invalid logger storage configuration");
    }
  }

  const mode = String(annotations["serving.kserve.io/deploymentMode"] ?? "");
  const metric = c.scaleMetric === undefined ? undefined : String(c.scaleMetric);
  const target = typeof c.scaleTarget === "number" ? c.scaleTarget : undefined;
  const hpa = () => {
    const m = metric ?? "cpu";
    if (!HPA_METRICS.includes(m))
      return add(at("scaleMetric"), "validateHPAMetrics", `[${m}] is not a supported metric`);
    // KServe's condition reads `metric == cpu && target < 1 || target > 100`: over 100 is refused for memory too.
    if (target !== undefined && ((m === "cpu" && target < 1) || target > 100))
      return add(
        at("scaleTarget"),
        "validateScalingHPACompExtension",
        "the target utilization percentage should be a [1-100] integer",
      );
    if (target !== undefined && m === "memory" && target < 1)
      add(
        at("scaleTarget"),
        "validateScalingHPACompExtension",
        "the target memory should be greater than 1 MiB",
      );
    const metrics =
      isObject(c.autoScaling) && Array.isArray(c.autoScaling.metrics) ? c.autoScaling.metrics : [];
    metrics.filter(isObject).forEach((spec, i) => {
      if (spec.type !== "Resource")
        add(
          at(`autoScaling/metrics/${i}/type`),
          "validateScalingHPACompExtension",
          `invalid HPA metric source type with value [${String(spec.type ?? "")}],valid metric source types are Resource`,
        );
      else if (!isObject(spec.resource))
        add(
          at(`autoScaling/metrics/${i}/resource`),
          "validateScalingHPACompExtension",
          "metricSpec.Resource is not set for resource metric source type",
        );
    });
  };
  if (mode === "Standard" || mode === "RawDeployment") {
    const cls = String(annotations["serving.kserve.io/autoscalerClass"] ?? "");
    if (cls === "hpa") hpa();
    if (cls === "keda" && metric !== undefined)
      add(at("scaleMetric"), "validateScalingKedaCompExtension", "ScaleMetric is not supported for KEDA");
    return;
  }
  if (annotations["autoscaling.knative.dev/class"] === "hpa.autoscaling.knative.dev") {
    hpa();
    return;
  }
  if (c.deploymentStrategy !== undefined)
    add(
      at("deploymentStrategy"),
      "validateScalingKPACompExtension",
      "customizing deploymentStrategy is only supported for raw deployment mode",
    );
  const m = metric ?? "concurrency";
  if (!KPA_METRICS.includes(m))
    add(at("scaleMetric"), "validateKPAMetrics", `[${m}] is not a supported metric`);
  else if (target !== undefined && m === "rps" && target < 1)
    add(at("scaleTarget"), "validateScalingKPACompExtension", "the target for rps should be greater than 1");
}
