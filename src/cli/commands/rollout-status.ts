import type { RolloutRecord } from "../../rollout/index.js";
import { type CommandContext, defineCommand } from "../command.js";
import { connect } from "./api-common.js";
import { renderRollout, rolloutEndpoint, rolloutEndpointOption } from "./rollout-common.js";

/** Polls the endpoint's rollout, printing each step as it ends, until the rollout is no longer Running. */
export async function followRollout(endpoint: string, ctx: CommandContext): Promise<RolloutRecord> {
  const client = connect(ctx);
  let shown = 0;
  for (;;) {
    const record = await client.call("rollouts.status", { endpoint });
    const ended = record.steps.filter((s) => s.endedAt);
    if (ctx.output !== "json")
      for (const step of ended.slice(shown))
        ctx.err(`  step ${step.index + 1} ${step.label}: ${step.reason ?? ""}\n`);
    shown = ended.length;
    if (record.state !== "Running") return record;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export const rolloutStatus = defineCommand({
  path: ["rollout", "status"],
  summary:
    "The endpoint's latest rollout: each step's window, every metric next to its threshold, the verdict and why",
  options: {
    ...rolloutEndpointOption,
    watch: { type: "boolean", description: "follow it until it ends (exit 1 unless it Succeeded)" },
  },
  examples: ["pier rollout status -e fin-behavior", "pier rollout status -e fin-behavior --watch -o json"],
  async handler(args, ctx) {
    const endpoint = rolloutEndpoint(args, "status");
    if (args.options.watch) return followRollout(endpoint, ctx);
    return connect(ctx).call("rollouts.status", { endpoint });
  },
  render: (record, ctx) => renderRollout(record, ctx),
  exitCode: (record) => (record.state === "Running" || record.state === "Succeeded" ? 0 : 1),
});
