import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";
import { renderRollout, rolloutEndpoint, rolloutEndpointOption } from "./rollout-common.js";

export const rolloutResume = defineCommand({
  path: ["rollout", "resume"],
  summary: "Start a Held rollout again at the step where it stopped, with a new execution timeout",
  options: rolloutEndpointOption,
  examples: ["pier rollout resume -e fin-behavior"],
  async handler(args, ctx) {
    return connect(ctx).call("rollouts.resume", { endpoint: rolloutEndpoint(args, "resume") });
  },
  render: (record, ctx) => renderRollout(record, ctx),
});
