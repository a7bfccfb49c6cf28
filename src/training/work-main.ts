/**
 * The child process of training work (work.ts): reads one job from its parent, does it, sends back
 * the result or the error, and exits. It runs at the lowest CPU priority (nice 19, SCHED_IDLE), so
 * that on a busy machine the scoring requests of the process that started it come first.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { lowerProcessPriority, toPierError } from "../shared/index.js";
import { BANKING_COLUMNS } from "./banking-schema.js";
import { writeCsv } from "./csv-table.js";
import { synthesizeBankingRecords } from "./synth.js";
import { evaluateModel, heldOutRows, trainFinancialModel } from "./train.js";
import type { WorkJob, WorkResult } from "./work.js";

async function run(job: WorkJob): Promise<WorkResult> {
  switch (job.kind) {
    case "inspect": {
      const bytes = readFileSync(job.path);
      const text = bytes.toString("utf8").trimEnd();
      let lines = text.length > 0 ? 1 : 0;
      for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
      return {
        kind: "inspect",
        sha256: createHash("sha256").update(bytes).digest("hex"),
        rows: Math.max(0, lines - 1),
      };
    }
    case "synthesize":
      writeCsv(job.path, BANKING_COLUMNS, synthesizeBankingRecords({ rows: job.rows, seed: job.seed }));
      return { kind: "synthesize" };
    case "train":
      return { kind: "train", report: await trainFinancialModel(job.options) };
    case "evaluate": {
      const heldOut = heldOutRows(job);
      const positives = heldOut.labels.reduce((n, v) => n + v, 0);
      const enough =
        heldOut.labels.length >= job.minRows && positives >= 5 && heldOut.labels.length - positives >= 5;
      const evaluations = [];
      if (enough) for (const dir of job.models) evaluations.push(await evaluateModel(dir, heldOut));
      return { kind: "evaluate", rows: heldOut.labels.length, positives, evaluations };
    }
  }
}

const lowered = lowerProcessPriority(process.pid);

process.once("message", (job: WorkJob) => {
  lowered
    .then(() => run(job))
    .then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (error: unknown) => {
        const e = toPierError(error);
        process.send!({ error: { ...e.toJSON(), stack: (error as Error)?.stack ?? "" } }, () =>
          process.exit(0),
        );
      },
    );
});
