import { resolve } from "node:path";
import { type TrainEvent, trainFinancialModel } from "../../training/index.js";
import { type CommandContext, defineCommand, intOption, required } from "../command.js";
import { ms, progressBar } from "../format.js";

/** Default random-search iterations: enough to tune, few enough that 5000 rows train in seconds. */
const DEFAULT_SEARCH_ITERATIONS = 10;

function progressPrinter(ctx: CommandContext): (event: TrainEvent) => void {
  let lastShownTenth = -1;
  return (event) => {
    if (event.type === "phase") {
      if (ctx.interactive) ctx.err("\r\x1b[K");
      ctx.err(`✔ ${event.phase.padEnd(8)} ${event.detail} (${ms(event.elapsedMs)})\n`);
    } else if (event.type === "warning") {
      ctx.err(`⚠ ${event.code}: ${event.message}\n`);
    } else {
      const line = `  search   ${progressBar(event.done, event.total)} best CV ROC AUC ${event.bestCvAuc.toFixed(4)}`;
      const tenth = Math.floor((event.done / event.total) * 10);
      if (ctx.interactive) ctx.err(`\r\x1b[K${line}`);
      else if (tenth !== lastShownTenth) ctx.err(`${line}\n`);
      lastShownTenth = tenth;
    }
  };
}

export const train = defineCommand({
  path: ["train"],
  summary: "Train the financial-behavior model and write an MLflow-format ONNX model package",
  options: {
    data: {
      type: "string",
      valueName: "FILE.csv",
      description: "Comprehensive Banking Database CSV (required)",
    },
    out: { type: "string", valueName: "DIR", description: "model package folder to write (required)" },
    target: {
      type: "string",
      valueName: "NAME",
      description: "HighAmount (default) or a two-valued column such as Anomaly",
    },
    seed: { type: "string", valueName: "N", description: "random seed (default 42)" },
    search: {
      type: "string",
      valueName: "N",
      description: `random-search iterations, 3-fold CV ROC AUC (default ${DEFAULT_SEARCH_ITERATIONS}; 0 = fixed settings)`,
    },
    force: { type: "boolean", description: "replace --out if it exists" },
  },
  examples: [
    "pier train --data banking.csv --out model",
    "pier train --data banking.csv --out anomaly-model --target Anomaly --search 20",
  ],
  async handler(args, ctx) {
    const data = resolve(ctx.cwd, required(args.options.data, "--data", "--data banking.csv"));
    const out = resolve(ctx.cwd, required(args.options.out, "--out", "--out model"));
    return trainFinancialModel({
      dataPath: data,
      outDir: out,
      target: args.options.target ?? "HighAmount",
      seed: intOption(args.options.seed, "seed", { min: 0, max: 2 ** 32 - 1 }) ?? 42,
      search: intOption(args.options.search, "search", { min: 0, max: 1000 }) ?? DEFAULT_SEARCH_ITERATIONS,
      force: args.options.force === true,
      onEvent: progressPrinter(ctx),
    });
  },
  render(report, ctx) {
    const m = report.metrics;
    const total = Object.values(report.timingsMs).reduce((a, b) => a + b, 0);
    ctx.out(`\nModel package: ${report.outDir} (model.onnx ${(report.onnx.bytes / 1024).toFixed(1)} KiB)`);
    ctx.out(`Target:        ${report.target.name}: ${report.target.description}`);
    ctx.out(
      `Rows:          ${report.split.train} train / ${report.split.test} held out (${report.split.testPositives} positive)`,
    );
    ctx.out(
      `Forest:        ${report.forest.trees} trees, ${report.forest.nodes} nodes, max_depth ${report.params.maxDepth ?? "none"}, class_weight ${report.params.classWeight ?? "none"}`,
    );
    if (report.search.bestCvAuc !== null) {
      ctx.out(
        `Search:        ${report.search.iterations} candidates, best ${report.search.folds}-fold CV ROC AUC ${report.search.bestCvAuc.toFixed(4)}`,
      );
    }
    ctx.out(
      `Held-out:      accuracy ${m.accuracy.toFixed(4)}  precision ${m.precision.toFixed(4)}  recall ${m.recall.toFixed(4)}  F1 ${m.f1_score.toFixed(4)}  ROC AUC ${m.roc_auc.toFixed(4)}`,
    );
    for (const finding of report.leakage) {
      ctx.out(
        `⚠ Leakage:     '${finding.feature}' alone gives AUC ${finding.auc.toFixed(4)}; these metrics overstate real skill.`,
      );
    }
    ctx.out(`Trained in ${ms(total)}. Next: pier test-local --model ${report.outDir} --data <FILE.csv>`);
  },
});
