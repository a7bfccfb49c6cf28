import { dirname, resolve } from "node:path";
import type { DeploymentReport } from "../../api/index.js";
import { loadDeploymentFile } from "../../config/index.js";
import { type CommandDefinition, defineCommand, requiredOption } from "../command.js";
import { connect, renderDeployment } from "./api-common.js";
import { progressLine } from "./up.js";

function applyCommand(mode: "create" | "update"): CommandDefinition<DeploymentReport> {
  return defineCommand({
    path: ["deployment", mode],
    summary:
      mode === "create"
        ? "Create a deployment from YAML and wait until it is Succeeded or Failed, with each step timed"
        : "Update a deployment from YAML; the old instances serve until the new ones are Ready",
    options: {
      file: {
        type: "string",
        short: "f",
        valueName: "deployment.yml",
        description: "deployment YAML (required)",
      },
      ...(mode === "create"
        ? {
            "all-traffic": {
              type: "boolean" as const,
              description: "send 100% of the endpoint's traffic here once Ready",
            },
          }
        : {}),
    },
    examples: [`pier deployment ${mode} -f blue-deployment.yml${mode === "create" ? " --all-traffic" : ""}`],
    async handler(args, ctx) {
      const file = resolve(ctx.cwd, requiredOption(args, "file", `-f blue-deployment.yml`));
      const loaded = loadDeploymentFile(file);
      return connect(ctx).stream<DeploymentReport>(
        "/deployments",
        {
          spec: loaded.spec,
          source: file,
          specDir: dirname(file),
          allTraffic: args.options["all-traffic"] === true,
          mode,
        },
        progressLine(ctx),
      );
    },
    render: renderDeployment,
    exitCode: (d) => (d.provisioning_state === "Succeeded" ? 0 : 1),
  });
}

export const deploymentCreate = applyCommand("create");
export const deploymentUpdate = applyCommand("update");
