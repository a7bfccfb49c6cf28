import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";
import { renderRollout, rolloutEndpoint, rolloutEndpointOption } from "./rollout-common.js";

export const rolloutPromote = defineCommand({
  path: ["rollout", "promote"],
  summary: "Skip the remaining analysis and promote the new deployment now (recorded as the user's call)",
  options: rolloutEndpointOption,
  examples: ["pier rollout promote -e fin-behavior"],
  async handler(args, ctx) {
    return connect(ctx).call("rollouts.promote", { endpoint: rolloutEndpoint(args, "promote") });
  },
  render: (record, ctx) => renderRollout(record, ctx),
});
