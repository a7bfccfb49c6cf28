import { defineCommand, intOption } from "../command.js";
import { connect, endpointArgument, endpointNameOption, nameArgument, nameOption } from "./api-common.js";

export const deploymentGetLogs = defineCommand({
  path: ["deployment", "get-logs"],
  summary: "Print the last lines of a deployment's inference-server or storage-initializer log",
  positionals: [{ name: "NAME", description: "deployment name" }],
  options: {
    ...endpointNameOption,
    ...nameOption,
    lines: { type: "string", short: "l", valueName: "N", description: "lines to show (default 100)" },
    container: {
      type: "string",
      valueName: "inference-server|storage-initializer",
      description: "which log (default inference-server)",
    },
  },
  examples: [
    "pier deployment get-logs -e fin-behavior -n blue --lines 50",
    "pier deployment get-logs -e fin-behavior -n blue --container storage-initializer",
  ],
  async handler(args, ctx) {
    const endpoint = endpointArgument(args, "-e fin-behavior");
    const name = nameArgument(args, "deployment", "-n blue");
    const lines = intOption(args.options.lines, "lines", { min: 1, max: 100_000 }) ?? 100;
    const container = args.options.container ?? "inference-server";
    return connect(ctx).call("deployments.logs", { endpoint, deployment: name, query: { container, lines } });
  },
  render(result, ctx) {
    ctx.out(result.logs || "(no log lines yet: the container has not started)");
  },
});
