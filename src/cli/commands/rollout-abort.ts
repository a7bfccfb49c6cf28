import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";
import { renderRollout, rolloutEndpoint, rolloutEndpointOption } from "./rollout-common.js";

export const rolloutAbort = defineCommand({
  path: ["rollout", "abort"],
  summary: "Roll back now: all traffic to the stable deployment, the new one kept at 0 % for inspection",
  options: rolloutEndpointOption,
  examples: ["pier rollout abort -e fin-behavior"],
  async handler(args, ctx) {
    return connect(ctx).call("rollouts.abort", { endpoint: rolloutEndpoint(args, "abort") });
  },
  render: (record, ctx) => renderRollout(record, ctx),
});
