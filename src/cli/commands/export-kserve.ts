import { defineCommand } from "../command.js";
import { exportExitCode, exportOptions, renderExport, runExport } from "./export-common.js";

export const exportKserve = defineCommand({
  path: ["export", "kserve"],
  summary:
    "Write an endpoint as KServe InferenceServices (Triton for ONNX, MLServer for MLflow, a container for a scoring script)",
  options: {
    ...exportOptions,
    "storage-uri": {
      type: "string",
      valueName: "URI",
      description: "where the model folders will be uploaded (s3://, gs://, pvc://, https://, oci://, hf://)",
    },
  },
  examples: [
    "pier export kserve -e fin-behavior --storage-uri s3://models/fin-behavior --out kserve",
    "pier export kserve --check kserve",
  ],
  handler: (args, ctx) =>
    runExport(
      ctx,
      "kserve",
      args.options,
      args.options["storage-uri"] ? { storageUri: args.options["storage-uri"] } : {},
    ),
  render: renderExport,
  exitCode: exportExitCode,
});
