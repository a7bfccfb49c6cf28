/** What `deployment create` and `deployment update` share: the YAML sent to pier up, progress streamed back. */
import { dirname, resolve } from "node:path";
import type { DeploymentReport } from "../../api/index.js";
import { loadDeploymentFile } from "../../config/index.js";
import { type CommandContext, required } from "../command.js";
import { connect, progressLine } from "./api-common.js";

export const deploymentFileOption = {
  file: {
    type: "string",
    short: "f",
    valueName: "deployment.yml",
    description: "deployment YAML (required)",
  },
} as const;

/** Sends the deployment YAML to pier up and prints each step as it happens; resolves to the outcome. */
export function applyDeployment(
  file: string | undefined,
  mode: "create" | "update",
  allTraffic: boolean,
  ctx: CommandContext,
): Promise<DeploymentReport> {
  const path = resolve(ctx.cwd, required(file, "--file", `-f blue-deployment.yml`));
  const loaded = loadDeploymentFile(path);
  return connect(ctx).stream<DeploymentReport>(
    "/deployments",
    { spec: loaded.spec, source: path, specDir: dirname(path), allTraffic, mode },
    progressLine(ctx),
  );
}

export const succeeded = (d: DeploymentReport) => (d.provisioning_state === "Succeeded" ? 0 : 1);
