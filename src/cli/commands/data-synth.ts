import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  applyShifts,
  BANKING_COLUMNS,
  modelInputRows,
  parseShift,
  synthesizeBankingRecords,
  writeCsv,
} from "../../training/index.js";
import { choiceOption, defineCommand, intOption } from "../command.js";
import { ms } from "../format.js";

const FORMATS = ["banking", "requests"] as const;

export const dataSynth = defineCommand({
  path: ["data", "synth"],
  summary:
    "Write synthetic Comprehensive Banking Database rows (40 columns, deterministic per seed), or scoring requests made of them, optionally shifted",
  options: {
    rows: { type: "string", valueName: "N", description: "rows to write (default 5000)" },
    seed: { type: "string", valueName: "S", description: "random seed (default 42)" },
    out: {
      type: "string",
      valueName: "FILE",
      description: "where to write (default banking.csv, or requests.jsonl with --as requests)",
    },
    shift: {
      type: "string",
      valueName: "SHIFT",
      description: "drift the rows: COLUMN+X, COLUMN*X or COLUMN=VALUE:SHARE (repeatable)",
      multiple: true,
    },
    as: {
      type: "string",
      valueName: "banking|requests",
      description: "banking: the CSV; requests: /score bodies of the model's inputs, one a line (JSONL)",
    },
    "rows-per-request": { type: "string", valueName: "N", description: "rows in each request (default 10)" },
  },
  examples: [
    "pier data synth --rows 5000 --seed 42 --out banking.csv",
    'pier data synth --as requests --rows 2000 --seed 7 --shift Age+15 --shift "Transaction Type=Transfer:0.7" --out drifted.jsonl',
  ],
  async handler(args, ctx) {
    const rows = intOption(args.options.rows, "rows", { min: 1, max: 10_000_000 }) ?? 5000;
    const seed = intOption(args.options.seed, "seed", { min: 0, max: 2 ** 32 - 1 }) ?? 42;
    const as = choiceOption(args.options.as, "as", FORMATS) ?? "banking";
    const perRequest =
      intOption(args.options["rows-per-request"], "rows-per-request", { min: 1, max: 10_000 }) ?? 10;
    const shifts = (args.options.shift ?? []).map(parseShift);
    const out = resolve(ctx.cwd, args.options.out ?? (as === "banking" ? "banking.csv" : "requests.jsonl"));
    const start = performance.now();
    const records = applyShifts(synthesizeBankingRecords({ rows, seed }), shifts, seed);
    let requests = 0;
    if (as === "banking") writeCsv(out, BANKING_COLUMNS, records);
    else {
      const inputs = modelInputRows(records);
      const columns = Object.keys(inputs[0] ?? {});
      const lines: string[] = [];
      for (let i = 0; i < inputs.length; i += perRequest) {
        const batch = inputs.slice(i, i + perRequest);
        lines.push(
          JSON.stringify({
            input_data: {
              columns,
              index: batch.map((_, k) => i + k),
              data: batch.map((row) => columns.map((c) => row[c as keyof typeof row])),
            },
          }),
        );
      }
      writeFileSync(out, `${lines.join("\n")}\n`);
      requests = lines.length;
    }
    return {
      out,
      rows,
      seed,
      as,
      requests,
      shifts: args.options.shift ?? [],
      columns: as === "banking" ? BANKING_COLUMNS.length : 8,
      elapsedMs: performance.now() - start,
    };
  },
  render(result, ctx) {
    const shifted = result.shifts.length ? `, shifted: ${result.shifts.join("; ")}` : "";
    if (result.as === "banking") {
      ctx.out(
        `✔ Wrote ${result.rows} synthetic rows × ${result.columns} columns to ${result.out} (seed ${result.seed}${shifted}, ${ms(result.elapsedMs)})`,
      );
      ctx.out(`  Next: pier train --data ${result.out} --out model`);
    } else {
      ctx.out(
        `✔ Wrote ${result.requests} scoring requests (${result.rows} rows of the model's 8 inputs) to ${result.out} (seed ${result.seed}${shifted}, ${ms(result.elapsedMs)})`,
      );
      ctx.out(`  Next: pier endpoint invoke fin-behavior --request-file ${result.out}`);
    }
  },
});
