/** What the `pier pipeline …` commands share: reading a run, following it, and how a run reads. */

import type { RunRecord } from "../../pipeline/index.js";
import { userError } from "../../shared/index.js";
import type { CommandContext } from "../command.js";
import { ms } from "../format.js";
import { connect } from "./api-common.js";

const MARK: Record<string, string> = {
  done: "✔",
  cached: "↺",
  skipped: "·",
  failed: "✘",
  stopped: "■",
  running: "…",
  waiting: "⏸",
};

export function stepLine(step: RunRecord["steps"][number]): string {
  return `${MARK[step.state] ?? "·"} ${step.name.padEnd(9)} ${step.state === "cached" ? "cached: " : ""}${step.detail ?? ""}${step.ms !== undefined ? ` (${ms(step.ms)})` : ""}`;
}

export function runNumber(text: string | undefined, verb: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw userError(
      "BadArgument",
      `'${text ?? ""}' is not a run number`,
      `Give the run's number: pier pipeline ${verb} RUN (pier pipeline runs lists them)`,
    );
  return n;
}

/** Prints each step as it ends until the run is no longer Running; resolves to the run. */
export async function followRun(ctx: CommandContext, id: number): Promise<RunRecord> {
  const client = connect(ctx);
  const printed = new Set<string>();
  for (;;) {
    const run = await client.call("pipeline.show", { run: id });
    for (const step of run.steps)
      if (step.state !== "running" && !printed.has(`${step.name}:${step.state}`)) {
        printed.add(`${step.name}:${step.state}`);
        ctx.err(`${stepLine(step)}\n`);
      }
    if (run.state !== "Running") return run;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function renderRun(run: RunRecord, ctx: CommandContext, detail: boolean): void {
  ctx.out(
    `pipeline ${run.name} run #${run.id}: ${run.state}${run.forced ? " (forced past the gate)" : ""} — ${run.outcome ?? "under way"}`,
  );
  if (run.error)
    ctx.out(
      `  ✘ ${run.error.code}: ${run.error.summary}${run.error.fix ? `\n  How to fix: ${run.error.fix}` : ""}`,
    );
  if (!detail) return;
  for (const step of run.steps) ctx.out(`  ${stepLine(step)}`);
  if (run.inputs) ctx.out(`  data ${run.inputs.data} (${run.inputs.rows} rows, sha256 ${run.inputs.sha256})`);
  if (run.gate) {
    ctx.out(`  gate ${run.gate.verdict}:`);
    for (const r of run.gate.rows)
      ctx.out(
        `    ${r.pass ? "✔" : "✘"} ${r.rule}: challenger ${r.challenger?.toFixed(4) ?? "–"}${r.champion !== null ? `, champion ${r.champion.toFixed(4)}` : ""}; needs ${r.needs}`,
      );
  }
  if (run.approval)
    ctx.out(
      `  approval: ${run.approval.decision} by ${run.approval.by} at ${run.approval.at}${run.approval.comment ? ` (${run.approval.comment})` : ""}`,
    );
  if (run.registered) ctx.out(`  registered models:/${run.registered.name}/${run.registered.version}`);
  if (run.rollout)
    ctx.out(
      `  rollout ${run.rollout.id !== null ? `#${run.rollout.id} ` : ""}${run.rollout.state}${run.rollout.reason ? `: ${run.rollout.reason}` : ""}`,
    );
}

export const exitOf = (run: RunRecord) =>
  run.state === "Succeeded" || run.state === "WaitingApproval" ? 0 : 1;
