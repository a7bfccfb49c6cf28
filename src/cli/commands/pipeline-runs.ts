import type { RunRecord } from "../../pipeline/index.js";
import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";

export const pipelineRuns = defineCommand({
  path: ["pipeline", "runs"],
  summary: "Pipeline runs, newest first; --compare A B puts two runs' parameters and metrics side by side",
  options: {
    compare: {
      type: "string",
      valueName: "A,B",
      description: "two run numbers to compare, e.g. --compare 3,5",
    },
  },
  examples: ["pier pipeline runs", "pier pipeline runs --compare 3,5 -o json"],
  async handler(args, ctx) {
    const runs = await connect(ctx).call("pipeline.list", {});
    if (!args.options.compare) return { runs, compared: null };
    const ids = args.options.compare.split(",").map((s) => Number(s.trim()));
    const compared = ids.map((id) => runs.find((r) => r.id === id) ?? null);
    return { runs, compared };
  },
  render({ runs, compared }, ctx) {
    if (compared) {
      const [a, b] = compared;
      const row = (label: string, f: (r: RunRecord) => unknown) =>
        ctx.out(`  ${label.padEnd(22)} ${String(a ? f(a) : "–").padEnd(26)} ${String(b ? f(b) : "–")}`);
      row("run", (r) => `#${r.id} ${r.state}`);
      row("data sha256", (r) => r.inputs?.sha256.slice(0, 16) ?? "–");
      for (const key of ["target", "seed", "search", "n_estimators", "max_depth", "test_fraction"])
        row(key, (r) => String(r.params?.[key] ?? "–"));
      for (const metric of ["roc_auc", "accuracy", "precision", "recall", "f1_score"])
        row(metric, (r) =>
          (
            (r.challenger?.evaluation.metrics as unknown as Record<string, number> | undefined)?.[metric] ??
            Number.NaN
          ).toFixed(4),
        );
      row("gate", (r) => r.gate?.verdict ?? "–");
      row("registered", (r) => (r.registered ? `v${r.registered.version}` : "–"));
      row("rollout", (r) => r.rollout?.state ?? "–");
      return;
    }
    if (runs.length === 0) ctx.out("No pipeline runs yet: pier pipeline run -f pipeline.yml");
    for (const r of runs)
      ctx.out(
        `#${String(r.id).padEnd(4)} ${r.name.padEnd(18)} ${r.state.padEnd(16)} ${r.startedAt.slice(0, 19)}  ${r.outcome ?? ""}`,
      );
  },
});
