import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";

export const monitorAlerts = defineCommand({
  path: ["monitor", "alerts"],
  summary: "Alerts firing and resolved (pier up evaluates the rules), and the rules in force",
  options: {
    "endpoint-name": { type: "string", short: "e", valueName: "EP", description: "one endpoint's alerts" },
    now: { type: "boolean", description: "evaluate every rule now instead of waiting for the next round" },
    rules: { type: "boolean", description: "list the rules in force" },
  },
  examples: [
    "pier monitor alerts",
    "pier monitor alerts -e fin-behavior --now",
    "pier monitor alerts --rules -o json",
  ],
  async handler(args, ctx) {
    const client = connect(ctx);
    if (args.options.now) await client.call("alerts.evaluate", {});
    const alerts = await client.call("alerts.list", { query: { endpoint: args.options["endpoint-name"] } });
    return { ...alerts, showRules: args.options.rules === true };
  },
  render(result, ctx) {
    if (result.showRules) {
      for (const r of result.rules)
        ctx.out(
          `  ${r.name.padEnd(16)} ${r.signal}${r.above !== undefined ? ` > ${r.above}` : ""} over ${Math.round(r.window / 60_000)} min, ${r.severity}${r.action !== "none" ? `, then ${r.action} the rollout` : ""}`,
        );
      ctx.out("");
    }
    if (result.alerts.length === 0) {
      ctx.out(
        "No alerts. pier up evaluates the rules every 30 s (pier monitor alerts --now to evaluate at once).",
      );
      return;
    }
    for (const a of result.alerts)
      ctx.out(
        `${a.state === "firing" ? "🔔 FIRING  " : "✔ resolved"} ${a.rule} (${a.severity}) ${a.endpoint}/${a.deployment} ${a.startsAt.slice(0, 19)}${a.endsAt ? ` → ${a.endsAt.slice(11, 19)}` : ""}: ${a.summary}`,
      );
  },
});
