/**
 * pier's own JSON Schemas for the Azure ML CLI v2 YAML it writes. Azure's published schemas
 * (azuremlschemas.azureedge.net/latest/managedOnline{Endpoint,Deployment}.schema.json) are in no
 * public repository and not reachable from here, so these are written from the documented field
 * tables, and cover exactly what pier emits, strictly:
 *   - learn.microsoft.com/azure/machine-learning/reference-yaml-endpoint-online
 *   - learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-managed-online
 *   - learn.microsoft.com/azure/machine-learning/how-to-collect-production-data (data_collector)
 *   - Azure/azure-sdk-for-python sdk/ml/azure-ai-ml/azure/ai/ml/_schema/_deployment/online/
 *     (the marshmallow classes those tables describe)
 */

const NAME = { type: "string", pattern: "^[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){2,31}$" };
const SECONDS = { type: "integer", minimum: 1 };

const probe = {
  type: "object",
  additionalProperties: false,
  properties: {
    initial_delay: SECONDS,
    period: SECONDS,
    timeout: SECONDS,
    success_threshold: SECONDS,
    failure_threshold: SECONDS,
    port: { type: "integer", minimum: 1, maximum: 65535 },
    path: { type: "string" },
  },
};

export const AZURE_ENDPOINT_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "pier:azureml/managedOnlineEndpoint",
  $comment:
    "Written by pier from reference-yaml-endpoint-online; see src/export/azureml-schema.ts for sources.",
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    $schema: { const: "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json" },
    name: NAME,
    description: { type: "string" },
    tags: { type: "object", additionalProperties: { type: "string" } },
    auth_mode: { enum: ["key", "aml_token", "aad_token"] },
    public_network_access: { enum: ["enabled", "disabled"] },
    identity: {
      type: "object",
      additionalProperties: false,
      required: ["type"],
      properties: {
        type: { enum: ["system_assigned", "user_assigned"] },
        user_assigned_identities: { type: "array" },
      },
    },
  },
} as const;

const enabledFlag = { enum: ["True", "False"] };

export const AZURE_DEPLOYMENT_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "pier:azureml/managedOnlineDeployment",
  $comment:
    "Written by pier from reference-yaml-deployment-managed-online; see src/export/azureml-schema.ts for sources.",
  type: "object",
  additionalProperties: false,
  required: ["name", "endpoint_name", "instance_type", "instance_count"],
  properties: {
    $schema: { const: "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json" },
    name: NAME,
    endpoint_name: NAME,
    description: { type: "string" },
    tags: { type: "object", additionalProperties: { type: "string" } },
    model: {
      oneOf: [
        { type: "string", pattern: "^azureml:[^:]+:[^:]+$" },
        {
          type: "object",
          additionalProperties: false,
          required: ["path"],
          properties: {
            path: { type: "string", minLength: 1 },
            name: { type: "string" },
            version: { type: ["string", "integer"] },
            type: { enum: ["custom_model", "mlflow_model", "triton_model"] },
            description: { type: "string" },
          },
        },
      ],
    },
    code_configuration: {
      type: "object",
      additionalProperties: false,
      required: ["code", "scoring_script"],
      properties: {
        code: { type: "string", minLength: 1 },
        scoring_script: { type: "string", minLength: 1 },
      },
    },
    environment: {
      oneOf: [
        { type: "string", pattern: "^azureml:" },
        {
          type: "object",
          additionalProperties: false,
          required: ["image"],
          properties: {
            name: { type: "string" },
            version: { type: ["string", "integer"] },
            image: { type: "string", minLength: 1 },
            conda_file: { type: "string", minLength: 1 },
            description: { type: "string" },
            inference_config: { type: "object" },
          },
        },
      ],
    },
    environment_variables: { type: "object", additionalProperties: { type: "string" } },
    instance_type: { type: "string", pattern: "^Standard_" },
    instance_count: { type: "integer", minimum: 1 },
    app_insights_enabled: { type: "boolean" },
    egress_public_network_access: { enum: ["enabled", "disabled"] },
    request_settings: {
      type: "object",
      additionalProperties: false,
      properties: {
        request_timeout_ms: { type: "integer", minimum: 1, maximum: 180_000 },
        max_concurrent_requests_per_instance: { type: "integer", minimum: 1 },
      },
    },
    liveness_probe: probe,
    readiness_probe: probe,
    data_collector: {
      type: "object",
      additionalProperties: false,
      required: ["collections"],
      properties: {
        sampling_rate: { type: "number", minimum: 0, maximum: 1 },
        rolling_rate: { enum: ["Minute", "Hour", "Day"] },
        request_logging: {
          type: "object",
          additionalProperties: false,
          properties: { capture_headers: { type: "array", items: { type: "string" } } },
        },
        collections: {
          type: "object",
          additionalProperties: {
            type: "object",
            additionalProperties: false,
            required: ["enabled"],
            properties: {
              enabled: enabledFlag,
              sampling_rate: { type: "number", minimum: 0, maximum: 1 },
              client_id: { type: "string" },
              data: { type: "object" },
            },
          },
        },
      },
    },
  },
  // A scoring script needs an environment (MLflow no-code deployments have neither).
  dependencies: { code_configuration: ["environment"] },
} as const;
