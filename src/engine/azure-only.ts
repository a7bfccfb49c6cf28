/**
 * What one machine cannot run of an Azure deployment, each named as a cause of its own before anything
 * starts, with what would run it (the cloud, through `pier export`) and what part pier can still run:
 * - a custom container (TF Serving, TorchServe, Triton, an R plumber server, a Dockerfile build, any
 *   other image with inference_config routes): pier runs no containers;
 * - a Triton model (model.type triton_model): it needs NVIDIA's Triton server;
 * - a scoring script that authenticates with a managed identity, or environment variables that are
 *   Key Vault references: identities and Key Vault exist only in Azure;
 * (A GPU VM size runs on this machine's CPU, which config/load.ts says, not hides.)
 */
import { type DeploymentSpec, findInstanceType } from "../config/index.js";
import { PierError } from "../shared/index.js";

/** The kind of server a custom container runs, from its image name and the model's files. */
function containerKind(image: string, modelPath: string | undefined): string {
  const text = `${image} ${modelPath ?? ""}`.toLowerCase();
  if (/tensorflow\/serving|tf-?serving/.test(text)) return "TF Serving";
  if (/torchserve|pytorch\/torchserve/.test(text)) return "TorchServe";
  if (/tritonserver|triton/.test(text)) return "NVIDIA Triton";
  if (/\br[-_]?server\b|plumber|rocker\/|\/r_|r-base/.test(text)) return "an R (plumber) server";
  if (/text-generation-inference|\btgi\b/.test(text)) return "Hugging Face text-generation-inference";
  if (/vllm/.test(text)) return "vLLM";
  return "a custom container";
}

/** A custom container or a Triton model: the cause, before any model is read or instance started. */
export function cannotRunHere(spec: DeploymentSpec): PierError | undefined {
  const environment = typeof spec.environment === "object" ? spec.environment : undefined;
  const model = typeof spec.model === "object" ? spec.model : undefined;
  const modelPath = typeof spec.model === "string" ? spec.model : model?.path;
  if (model?.type === "triton_model")
    return new PierError({
      code: "TritonModelUnsupported",
      summary: `${spec.name}'s model is a triton_model (${modelPath}): it is served by NVIDIA's Triton server, which pier does not run`,
      details: [
        "Azure runs a triton_model deployment in its Triton inference image (no code_configuration or environment)",
        ...(findInstanceType(spec.instance_type)?.gpus
          ? [`${spec.instance_type} is a GPU size (${findInstanceType(spec.instance_type)!.gpuModel})`]
          : []),
      ],
      fix: `Run it where Triton runs: deploy the YAML to Azure ML as it is, or hand it to KServe's Triton runtime (pier export kserve). What pier can serve of it: an ONNX model of the repository (<model>/1/model.onnx) saved as an MLflow ONNX model (mlflow.onnx.save_model) and deployed without model.type.`,
      data: {},
    });
  if (spec.code_configuration) return undefined; // a scoring script runs without its image
  // A container serves the deployment: its own routes, its own build, or no model for pier to serve.
  if (!environment?.inference_config && !environment?.build && spec.model) return undefined;
  const image =
    environment?.image ?? (typeof spec.environment === "string" ? spec.environment : "(no image named)");
  const kind = environment?.build ? "a Dockerfile build" : containerKind(image, modelPath);
  const routes = environment?.inference_config?.scoring_route;
  return new PierError({
    code: "CustomContainerUnsupported",
    summary: `${spec.name} runs ${kind} (${environment?.build ? `environment.build ${environment.build.path}` : `image ${image}`}): pier runs no containers, so it cannot serve this deployment`,
    details: [
      ...(routes ? [`scoring_route: port ${routes.port}, path ${routes.path}`] : []),
      "on Azure, the container itself answers the probes and the scoring route; nothing of it runs outside a container engine",
    ],
    fix:
      kind === "an R (plumber) server"
        ? "Run it in Azure ML (az ml online-deployment create -f this file, or pier export azureml to check it first); pier serves Python and ONNX models only."
        : `Run it in Azure ML as it is (pier export azureml checks the YAML and writes the commands), or on KServe${kind === "TF Serving" || kind === "TorchServe" || kind === "NVIDIA Triton" ? `, whose ${kind} runtime serves the same model (pier export kserve)` : ""}. What pier can run of it: a scoring script (code_configuration with a conda_file) runs here without its image.`,
    data: {},
  });
}

/** Azure's Key Vault reference in an environment variable's value: NAME@https://VAULT.vault.azure.net. */
const KEY_VAULT_REFERENCE = /^[\w-]+@https:\/\/[\w-]+\.vault\.azure\.net\/?$/i;

/** A scoring script that authenticates as the deployment's managed identity: it cannot get a token here. */
export function scriptNeedsIdentity(
  spec: DeploymentSpec,
  scriptName: string,
  text: string,
): PierError | undefined {
  const managed = /\bManagedIdentityCredential\b/.test(text);
  const references = Object.entries(spec.environment_variables ?? {}).filter(([, v]) =>
    KEY_VAULT_REFERENCE.test(v),
  );
  if (!managed && references.length === 0) return undefined;
  return new PierError({
    code: "IdentityUnavailable",
    summary: managed
      ? `${scriptName} authenticates with ManagedIdentityCredential: a managed identity exists only in Azure, so init() cannot get a token here`
      : `environment_variables ${references.map(([k]) => k).join(", ")} ${references.length > 1 ? "are" : "is a"} Key Vault reference${references.length > 1 ? "s" : ""}, which Azure resolves with the deployment's identity; here the script would get the reference itself`,
    details: [
      ...(managed ? [`${scriptName}: ManagedIdentityCredential()`] : []),
      ...references.map(([k, v]) => `environment_variables.${k}: ${v}`),
    ],
    fix: managed
      ? `For local runs, take the credential from the environment: use DefaultAzureCredential (it reads AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET, or your az login), or give the secret itself in environment_variables; the file as it is runs in Azure (pier export azureml).`
      : `For local runs, set ${references.map(([k]) => k).join(", ")} to the secret's value in a copy of the YAML; the references stay right for Azure (pier export azureml keeps them).`,
    data: {},
  });
}
