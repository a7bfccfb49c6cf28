/** What the `pier rollout …` commands share: the endpoint option and how a rollout and its decision record read. */
import type { RolloutRecord, StepRecord } from "../../rollout/index.js";
import type { CommandContext, ParsedArgs } from "../command.js";
import { endpointArgument, endpointNameOption } from "./api-common.js";

export const rolloutEndpointOption = endpointNameOption;

/** The -e endpoint. */
export const rolloutEndpoint = (args: ParsedArgs<typeof endpointNameOption>, verb: string) =>
  endpointArgument(args, `pier rollout ${verb} -e fin-behavior`);

const MARK: Record<string, string> = { pass: "✔", done: "✔", fail: "✘", insufficient: "…", pending: "…" };
/** A rollout's mark: only a promotion is a ✔; a rollback or an abort is a ✘, a hold a ⚠. */
const STATE_MARK: Record<string, string> = {
  Succeeded: "✔",
  RolledBack: "✘",
  Aborted: "✘",
  Held: "⚠",
  Running: "…",
};

function side(name: string, s: StepRecord["candidate"]): string {
  if (!s) return "";
  const failed = Object.entries(s.failures)
    .map(([kind, n]) => `${n} × ${kind}`)
    .join(", ");
  return `${name} ${s.requests} req${failed ? ` (${failed})` : ""}${s.p50Ms !== null ? `, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms` : ""}`;
}

/** One step of the decision record: its window, each metric next to its threshold, the verdict and why. */
function renderStep(step: StepRecord, record: RolloutRecord, ctx: CommandContext, detail: boolean): void {
  const took = step.endedAt
    ? ` ${((Date.parse(step.endedAt) - Date.parse(step.startedAt)) / 1000).toFixed(1)} s`
    : " (under way)";
  ctx.out(
    `  ${MARK[step.verdict ?? "pending"] ?? "·"} step ${step.index + 1} ${step.label}${took}: ${step.reason ?? ""}`,
  );
  if (!detail) return;
  const sides = [side(record.candidate, step.candidate), side(record.stable, step.stable)].filter(Boolean);
  if (sides.length)
    ctx.out(
      `      ${sides.join("; ")}${step.compared !== undefined ? `; ${step.compared} compared answers` : ""}`,
    );
  for (const check of step.checks ?? []) {
    const mark = check.ok === undefined ? "·" : check.ok ? "✔" : "✘";
    ctx.out(`      ${mark} ${check.line}`);
  }
}

export function renderRollout(record: RolloutRecord, ctx: CommandContext, detail = true): void {
  const mark = STATE_MARK[record.state] ?? "·";
  ctx.out(
    `${mark} rollout #${record.id} on ${record.endpoint}: ${record.stable} → ${record.candidate} (${record.spec.strategy.type}), ${record.state}${record.reason ? `: ${record.reason}` : ""}`,
  );
  ctx.out(
    `  started ${record.startedAt}${record.endedAt ? `, ended ${record.endedAt}` : `, execution timeout at ${record.deadlineAt}`}`,
  );
  for (const finding of record.plan ?? []) ctx.out(`  ⚠ plan: ${finding}`);
  for (const step of record.steps) renderStep(step, record, ctx, detail);
  for (const note of record.notes) ctx.out(`  note: ${note}`);
  for (const d of record.diagnosis ?? []) ctx.out(`  doctor on ${record.candidate}: ${d.code}: ${d.cause}`);
}
