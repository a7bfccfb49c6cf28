/** What `deployment create` and `deployment update` share: the YAML sent to pier up, progress streamed back. */
import { dirname, resolve } from "node:path";
import type { DeploymentReport } from "../../api/index.js";
import { loadDeploymentFile } from "../../config/index.js";
import { type CommandContext, choiceOption, FIDELITIES, fidelityOption, required } from "../command.js";
import { connect, progressLine } from "./api-common.js";

export const deploymentFileOption = {
  file: {
    type: "string",
    short: "f",
    valueName: "deployment.yml",
    description: "deployment YAML (required)",
  },
  ...fidelityOption,
} as const;

/** Sends the deployment YAML to pier up and prints each step as it happens; resolves to the outcome. */
export function applyDeployment(
  options: { file?: string | undefined; fidelity?: string | undefined },
  mode: "create" | "update",
  allTraffic: boolean,
  ctx: CommandContext,
): Promise<DeploymentReport> {
  const path = resolve(ctx.cwd, required(options.file, "--file", `-f blue-deployment.yml`));
  const fidelity = choiceOption(options.fidelity, "fidelity", FIDELITIES);
  const loaded = loadDeploymentFile(path);
  return connect(ctx).stream(
    "deployments.apply",
    {
      body: {
        spec: loaded.spec,
        source: path,
        specDir: dirname(path),
        allTraffic,
        mode,
        ...(fidelity ? { fidelity } : {}),
      },
    },
    progressLine(ctx),
  );
}

export const succeeded = (d: DeploymentReport) => (d.provisioning_state === "Succeeded" ? 0 : 1);
