import { type FixRecord, readFixes } from "../../fix/index.js";
import { defineCommand, pierHome } from "../command.js";

export const doctorHistory = defineCommand({
  path: ["doctor", "history"],
  summary: "Every fix `pier doctor --fix` applied: the diff, the outcome, the time from failure to serving",
  positionals: [{ name: "ENDPOINT", description: "only this endpoint's fixes" }],
  options: {},
  examples: ["pier doctor history", "pier doctor history fin-behavior -o json"],
  async handler(args, ctx): Promise<FixRecord[]> {
    return readFixes(pierHome(ctx), args.positionals[0]);
  },
  render(records, ctx) {
    if (records.length === 0) ctx.out("No fixes applied yet: pier doctor ENDPOINT DEPLOYMENT --fix");
    for (const record of records) {
      ctx.out(
        `${record.at}  ${record.target}  ${record.ok ? "✔ serving" : "✘ not fixed"}${record.msToServing !== null ? ` ${(record.msToServing / 1000).toFixed(1)} s after the failure` : ""}`,
      );
      ctx.out(`  file ${record.deploymentFile}`);
      for (const round of record.rounds) {
        ctx.out(`  ${round.code}: ${round.outcome} (${round.after})`);
        for (const line of round.diff.split("\n").filter(Boolean)) ctx.out(`    ${line}`);
      }
    }
  },
});
