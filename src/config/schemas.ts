/**
 * Endpoint and deployment YAML: the Azure ML CLI v2 fields (managedOnlineEndpoint /
 * managedOnlineDeployment schemas), checked strictly. Fields pier accepts but cannot honour on one
 * machine are listed in UNHONOURED_* and produce warnings.
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
  auth_mode: z.enum(["key", "aml_token", "aad_token"]).default("key"),
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

const modelSchema = z.union([
  z.string().min(1),
  z.strictObject({
    path: z.string().min(1),
    name: z.string().optional(),
    version: z.union([z.string(), z.number()]).optional(),
    type: z.enum(["custom_model", "mlflow_model", "triton_model"]).optional(),
    description: z.string().optional(),
  }),
]);

const environmentSchema = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().optional(),
    version: z.union([z.string(), z.number()]).optional(),
    image: z.string().optional(),
    conda_file: z.string().optional(),
    description: z.string().optional(),
    inference_config: z.record(z.string(), z.unknown()).optional(),
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
});

export const deploymentSchema = z.strictObject({
  $schema: z.string().optional(),
  name: resourceName,
  endpoint_name: resourceName,
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  model: modelSchema.optional(),
  code_configuration: z
    .strictObject({ code: z.string().min(1), scoring_script: z.string().min(1) })
    .optional(),
  environment: environmentSchema.optional(),
  environment_variables: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .optional(),
  instance_type: z.string().min(1),
  instance_count: z.number().int().min(1).max(20),
  app_insights_enabled: z.boolean().optional(),
  scale_settings: z.strictObject({ type: z.literal("default") }).optional(),
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
});
export type DeploymentSpec = z.infer<typeof deploymentSchema>;

/** A folder the deployment YAML names: absolute, or relative to the YAML file's folder. */
export const resolveFromSpec = (path: string, specDir: string): string =>
  isAbsolute(path) ? path : resolve(specDir, path);

/** The text of a deployment's `model:` (a folder or a URI), whichever form the YAML used. */
export function modelPathOf(spec: DeploymentSpec): string | undefined {
  return typeof spec.model === "string" ? spec.model : spec.model?.path;
}

/** Keys accepted for compatibility that pier cannot honour locally, with why. */
export const UNHONOURED_ENDPOINT_KEYS: Record<string, string> = {
  identity: "managed identities exist only in Azure",
  compute: "pier runs every deployment on this machine",
  public_network_access: "pier listens on 127.0.0.1 only",
};
export const UNHONOURED_DEPLOYMENT_KEYS: Record<string, string> = {
  app_insights_enabled: "Application Insights is an Azure service; use pier's /metrics",
  egress_public_network_access: "pier does not isolate the instance's network",
  scale_settings: "instance_count is fixed on one machine",
};
