import { defineCommand } from "../command.js";
import { exportExitCode, exportOptions, renderExport, runExport } from "./export-common.js";

export const exportAzureml = defineCommand({
  path: ["export", "azureml"],
  summary:
    "Write an endpoint as Azure ML CLI v2 YAML (sized from what pier measured), with the az ml commands in order",
  options: exportOptions,
  examples: [
    "pier export azureml -e fin-behavior --out azureml",
    "pier export azureml -e fin-behavior -n green --out green-azureml",
    "pier export azureml --check azureml",
  ],
  handler: (args, ctx) => runExport(ctx, "azureml", args.options),
  render: renderExport,
  exitCode: exportExitCode,
});
