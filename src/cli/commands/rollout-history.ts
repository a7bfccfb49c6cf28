import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";
import { renderRollout, rolloutEndpoint, rolloutEndpointOption } from "./rollout-common.js";

export const rolloutHistory = defineCommand({
  path: ["rollout", "history"],
  summary: "Every rollout of the endpoint, newest first, each with its steps and how it ended",
  options: rolloutEndpointOption,
  examples: ["pier rollout history -e fin-behavior", "pier rollout history -e fin-behavior -o json"],
  async handler(args, ctx) {
    return connect(ctx).call("rollouts.history", { endpoint: rolloutEndpoint(args, "history") });
  },
  render(records, ctx) {
    if (records.length === 0)
      ctx.out("No rollouts yet. Start one: pier rollout start -e ENDPOINT -f green.yml");
    for (const record of records) renderRollout(record, ctx, false);
  },
});
