import { resolve } from "node:path";
import { runLocalTest } from "../../runtime/index.js";
import { engineerInputs, INPUT_SOURCE_COLUMNS, loadCsvTable, recordAt } from "../../training/index.js";
import { defineCommand, intOption, required } from "../command.js";
import { mark, ms } from "../format.js";

export const testLocal = defineCommand({
  path: ["test-local"],
  summary: "Load a model package with ONNX Runtime, score a CSV, measure latency and probe edge cases",
  options: {
    model: { type: "string", valueName: "DIR", description: "model package folder (required)" },
    data: {
      type: "string",
      valueName: "FILE.csv",
      description: "Comprehensive Banking Database CSV (required)",
    },
    iterations: { type: "string", valueName: "N", description: "single-row calls to time (default 100)" },
  },
  examples: ["pier test-local --model model --data banking.csv --iterations 100"],
  async handler(args, ctx) {
    const modelDir = resolve(ctx.cwd, required(args.options.model, "--model", "--model model"));
    const data = resolve(ctx.cwd, required(args.options.data, "--data", "--data banking.csv"));
    const iterations = intOption(args.options.iterations, "iterations", { min: 1, max: 1_000_000 }) ?? 100;
    const inputs = engineerInputs(loadCsvTable(data, INPUT_SOURCE_COLUMNS));
    const records = Array.from({ length: inputs.count }, (_, row) => recordAt(inputs, row));
    return runLocalTest({ modelDir, records, iterations });
  },
  render(report, ctx) {
    const s = report.singleRow;
    const b = report.batch;
    ctx.out(`Model:       ${report.modelDir} loaded in ${ms(report.loadMs)}`);
    ctx.out(`Scored:      ${report.rows} rows, ${report.positives} predicted positive`);
    ctx.out(
      `Single row:  ${s.calls} calls, mean ${ms(s.meanMs)}, p50 ${ms(s.p50Ms)}, p95 ${ms(s.p95Ms)}, p99 ${ms(s.p99Ms)}`,
    );
    ctx.out(
      `Batch:       ${b.calls} × ${b.batchRows} rows, mean ${ms(b.meanMs)} per batch (${b.perRowUs.toFixed(2)} µs per row), p95 ${ms(b.p95Ms)}`,
    );
    ctx.out("Gates:");
    for (const g of report.gates)
      ctx.out(`  ${mark(g.passed)} ${g.name} < ${g.limitMs} ms: ${ms(g.valueMs)}`);
    ctx.out("Edge cases:");
    for (const c of report.edgeCases) ctx.out(`  ${mark(c.passed)} ${c.name} → ${c.detail}`);
    ctx.out(report.passed ? "✔ PASS" : "✘ FAIL: see the ✘ lines above");
  },
  exitCode: (report) => (report.passed ? 0 : 1),
});
