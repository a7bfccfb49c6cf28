import { resolve } from "node:path";
import { BANKING_COLUMNS, synthesizeBankingRecords, writeCsv } from "../../pipeline/index.js";
import { defineCommand, intOption } from "../command.js";
import { ms } from "../format.js";

export const dataSynth = defineCommand({
  path: ["data", "synth"],
  summary: "Write a synthetic Comprehensive Banking Database CSV (40 columns, deterministic per seed)",
  options: {
    rows: { type: "string", valueName: "N", description: "rows to write (default 5000)" },
    seed: { type: "string", valueName: "S", description: "random seed (default 42)" },
    out: { type: "string", valueName: "FILE.csv", description: "where to write (default banking.csv)" },
  },
  examples: ["pier data synth --rows 5000 --seed 42 --out banking.csv"],
  async handler(args, ctx) {
    const rows = intOption(args.options.rows, "rows", { min: 1, max: 10_000_000 }) ?? 5000;
    const seed = intOption(args.options.seed, "seed", { min: 0, max: 2 ** 32 - 1 }) ?? 42;
    const out = resolve(ctx.cwd, args.options.out ?? "banking.csv");
    const start = performance.now();
    writeCsv(out, BANKING_COLUMNS, synthesizeBankingRecords({ rows, seed }));
    return { out, rows, seed, columns: BANKING_COLUMNS.length, elapsedMs: performance.now() - start };
  },
  render(result, ctx) {
    ctx.out(
      `✔ Wrote ${result.rows} synthetic rows × ${result.columns} columns to ${result.out} (seed ${result.seed}, ${ms(result.elapsedMs)})`,
    );
    ctx.out(`  Next: pier train --data ${result.out} --out model`);
  },
});
