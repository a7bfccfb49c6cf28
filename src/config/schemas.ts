/**
 * Endpoint and deployment YAML: every field of the Azure ML CLI v2 schemas of managed and Kubernetes
 * online endpoints and deployments (managedOnlineEndpoint, kubernetesOnlineEndpoint,
 * managedOnlineDeployment, kubernetesOnlineDeployment; reference-yaml-endpoint-online,
 * reference-yaml-deployment-managed-online, reference-yaml-deployment-kubernetes-online), checked
 * strictly: a key none of them has is an error naming it. Fields pier accepts but cannot honour on one
 * machine are listed in UNHONOURED_* with what they would do in Azure, and produce warnings.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";

/** Azure's rule for endpoint and deployment names: a letter first, 3–32 letters, digits and single dashes. */
const resourceName = z
  .string()
  .regex(
    /^[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){2,31}$/,
    "must be 3–32 characters: a letter first, then letters, digits and single dashes",
  );

const percent = z.number().int().min(0).max(100);

export const endpointSchema = z.strictObject({
  $schema: z.string().optional(),
  name: resourceName,
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  // Azure's own examples write Key and AMLToken as well as key and aml_token.
  auth_mode: z
    .string()
    .transform((v) =>
      v
        .toLowerCase()
        .replace(/^amltoken$/, "aml_token")
        .replace(/^aadtoken$/, "aad_token"),
    )
    .pipe(z.enum(["key", "aml_token", "aad_token"]))
    .default("key"),
  compute: z.string().optional(),
  identity: z
    .strictObject({
      type: z.enum(["system_assigned", "user_assigned"]),
      user_assigned_identities: z.array(z.unknown()).optional(),
    })
    .optional(),
  traffic: z.record(z.string(), percent).optional(),
  mirror_traffic: z.record(z.string(), percent).optional(),
  public_network_access: z.enum(["enabled", "disabled"]).optional(),
  location: z.string().optional(),
  kind: z.string().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});
export type EndpointSpec = z.infer<typeof endpointSchema>;

const probeSchema = z.strictObject({
  initial_delay: z.number().int().min(1).default(10),
  period: z.number().int().min(1).default(10),
  timeout: z.number().int().min(1).default(2),
  success_threshold: z.number().int().min(1).default(1),
  failure_threshold: z.number().int().min(1).default(30),
  port: z.number().int().optional(),
  path: z.string().optional(),
});
export type ProbeSettings = z.infer<typeof probeSchema>;

const PROBE_DEFAULTS: ProbeSettings = {
  initial_delay: 10,
  period: 10,
  timeout: 2,
  success_threshold: 1,
  failure_threshold: 30,
};

/** A model asset (Azure's model YAML, inline or its own file); older examples write local_path for path. */
export const modelAssetSchema = z
  .strictObject({
    $schema: z.string().optional(),
    path: z.string().min(1).optional(),
    local_path: z.string().min(1).optional(),
    name: z.string().optional(),
    version: z.union([z.string(), z.number()]).optional(),
    type: z.enum(["custom_model", "mlflow_model", "triton_model"]).optional(),
    description: z.string().optional(),
    tags: z.record(z.string(), z.unknown()).optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
    stage: z.string().optional(),
    flavors: z.record(z.string(), z.unknown()).optional(),
    // A model file of its own may say which job made it and where it is stored in Azure.
    job_name: z.string().optional(),
    datastore: z.string().optional(),
  })
  .refine((m) => m.path !== undefined || m.local_path !== undefined, {
    message: "needs a path (the model's file or folder)",
    path: ["path"],
  })
  .transform(({ local_path, ...m }) => ({ ...m, path: (m.path ?? local_path)! }));
export type ModelAssetSpec = z.infer<typeof modelAssetSchema>;

const modelSchema = z.union([z.string().min(1), modelAssetSchema]);

/** A custom container's routes: where its health and scoring answers are. */
const route = z.strictObject({ port: z.number().int().min(1).max(65535), path: z.string().min(1) });

/** An inline environment asset (Azure's environment YAML): an image, a conda file, or a Docker build context. */
export const environmentAssetSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().optional(),
  version: z.union([z.string(), z.number()]).optional(),
  image: z.string().optional(),
  conda_file: z.string().optional(),
  build: z.strictObject({ path: z.string().min(1), dockerfile_path: z.string().optional() }).optional(),
  os_type: z.enum(["linux", "windows"]).optional(),
  description: z.string().optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  inference_config: z
    .strictObject({
      liveness_route: route.optional(),
      readiness_route: route.optional(),
      scoring_route: route.optional(),
    })
    .optional(),
});
export type EnvironmentAssetSpec = z.infer<typeof environmentAssetSchema>;

const environmentSchema = z.union([z.string().min(1), environmentAssetSchema]);

/**
 * How a deployment scales: managed deployments have a fixed instance_count (type default); a Kubernetes
 * deployment scales on utilization between min and max instances (Azure's TargetUtilizationScaleSettings).
 */
const scaleSettingsSchema = z.union([
  z.strictObject({ type: z.literal("default") }),
  z
    .strictObject({
      type: z.literal("target_utilization"),
      min_instances: z.number().int().min(1).default(1),
      max_instances: z.number().int().min(1).max(20).default(1),
      polling_interval: z.number().int().min(1).default(1),
      target_utilization_percentage: z.number().int().min(1).max(100).default(70),
    })
    .refine((s) => s.max_instances >= s.min_instances, {
      message: "max_instances must be at least min_instances",
      path: ["max_instances"],
    }),
]);

/** Azure writes `enabled: 'True'`; a YAML boolean means the same. */
const enabledFlag = z
  .union([z.boolean(), z.enum(["True", "False", "true", "false"])])
  .transform((v) => v === true || v === "True" || v === "true");

/**
 * Azure ML's data collector: which collections are written (model_inputs and model_outputs: what the
 * model took and gave; request and response: the HTTP payloads), how often, and which headers go along.
 */
const dataCollectorSchema = z.strictObject({
  sampling_rate: z.number().min(0).max(1).default(1),
  rolling_rate: z
    .enum(["minute", "hour", "day", "Minute", "Hour", "Day"])
    .transform((v) => v.toLowerCase() as "minute" | "hour" | "day")
    .default("hour"),
  request_logging: z
    .strictObject({ capture_headers: z.array(z.string().min(1)).max(20).default([]) })
    .optional(),
  collections: z.record(
    z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be letters, digits, _ or -"),
    z.strictObject({
      enabled: enabledFlag.default(true),
      sampling_rate: z.number().min(0).max(1).optional(),
      client_id: z.string().optional(),
      data: z
        .strictObject({
          name: z.string().optional(),
          path: z.string().optional(),
          version: z.union([z.string(), z.number()]).optional(),
        })
        .optional(),
    }),
  ),
});
export type DataCollectorSpec = z.infer<typeof dataCollectorSchema>;

/** Request headers that carry a key or a session: a data collector never writes them. */
export const SECRET_HEADERS = /^(authorization|cookie|proxy-authorization|x-pier-.*)$/i;

const quantities = z.strictObject({
  cpu: z.union([z.string(), z.number()]).optional(),
  memory: z.string().optional(),
  "nvidia.com/gpu": z.union([z.string(), z.number()]).optional(),
});

export const deploymentSchema = z.strictObject({
  $schema: z.string().optional(),
  name: resourceName,
  endpoint_name: resourceName,
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  model: modelSchema.optional(),
  model_mount_path: z.string().min(1).optional(),
  code_configuration: z
    .strictObject({
      // Older examples write code: {local_path: …}.
      code: z.union([
        z.string().min(1),
        z.strictObject({ local_path: z.string().min(1) }).transform((c) => c.local_path),
      ]),
      scoring_script: z.string().min(1),
    })
    .optional(),
  environment: environmentSchema.optional(),
  environment_variables: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .optional(),
  /** Required for managed deployments; a Kubernetes deployment takes its cluster's default when absent. */
  instance_type: z.string().min(1).optional(),
  /** Required for managed deployments; 1 for a Kubernetes deployment when absent. */
  instance_count: z.number().int().min(1).max(20).optional(),
  app_insights_enabled: z.boolean().optional(),
  scale_settings: scaleSettingsSchema.optional(),
  request_settings: z
    .strictObject({
      request_timeout_ms: z.number().int().min(1).max(180_000).default(5000),
      max_concurrent_requests_per_instance: z.number().int().min(1).max(1000).default(1),
      max_queue_wait_ms: z.number().int().min(0).optional(),
    })
    .default({ request_timeout_ms: 5000, max_concurrent_requests_per_instance: 1 }),
  liveness_probe: probeSchema.default(PROBE_DEFAULTS),
  readiness_probe: probeSchema.default(PROBE_DEFAULTS),
  egress_public_network_access: z.enum(["enabled", "disabled"]).optional(),
  data_collector: dataCollectorSchema.optional(),
  resources: z.strictObject({ requests: quantities.optional(), limits: quantities.optional() }).optional(),
  type: z.enum(["managed", "kubernetes"]).optional(),
  private_network_connection: z.boolean().optional(),
});

/** A deployment as pier runs it: the managed one's required instance_type and instance_count filled in. */
export type DeploymentSpec = Omit<z.infer<typeof deploymentSchema>, "instance_type" | "instance_count"> & {
  instance_type: string;
  instance_count: number;
};

/** A folder the deployment YAML names: absolute, or relative to the YAML file's folder. */
export const resolveFromSpec = (path: string, specDir: string): string =>
  isAbsolute(path) ? path : resolve(specDir, path);

/** The text of a deployment's `model:` (a folder or a URI), whichever form the YAML used. */
export function modelPathOf(spec: DeploymentSpec): string | undefined {
  return typeof spec.model === "string" ? spec.model : spec.model?.path;
}

/** Keys accepted for compatibility that pier cannot honour locally: what they do in Azure, and what pier does. */
export const UNHONOURED_ENDPOINT_KEYS: Record<string, string> = {
  identity:
    "in Azure, the identity its deployments use to reach storage, Key Vault and registries; managed identities exist only in Azure",
  compute:
    "in Azure, the Kubernetes cluster a Kubernetes endpoint runs on; pier runs every deployment on this machine",
  public_network_access:
    "in Azure, whether the endpoint is reachable from the internet; pier listens on 127.0.0.1 only",
  properties: "in Azure, free-form metadata of the resource; pier keeps it in the YAML only",
};
export const UNHONOURED_DEPLOYMENT_KEYS: Record<string, string> = {
  app_insights_enabled:
    "in Azure, logs and metrics sent to Application Insights; use pier's /metrics and `pier deployment get-logs`",
  egress_public_network_access:
    "in Azure, whether the container may reach the internet; pier does not isolate the instance's network",
  private_network_connection: "in Azure, a private endpoint for a legacy network-isolated workspace",
  model_mount_path:
    "in Azure, where a custom container finds the model; pier runs no containers, and a scoring script finds its model in AZUREML_MODEL_DIR as on Azure",
  properties: "in Azure, free-form metadata of the resource; pier keeps it in the YAML only",
};
