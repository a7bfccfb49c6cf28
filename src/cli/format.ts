/** Small text helpers shared by the renderers. */

import type { EnvironmentRecord } from "../env/index.js";
import type { Finding, PierError } from "../shared/index.js";

export const ms = (value: number): string =>
  value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 2 : 1)} ms`;

export const mark = (ok: boolean): string => (ok ? "✔" : "✘");

/** The error grammar: `✘ CODE: summary`, details, then "How to fix:". */
export function formatError(error: PierError): string {
  const lines = [`✘ ${error.code}: ${error.summary}`];
  for (const detail of error.details) lines.push(`  ${detail}`);
  if (error.fix) lines.push("How to fix:", `  ${error.fix}`);
  return lines.join("\n");
}

/** A fixed-width bar such as `[██████░░░░] 6/10`. */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = Math.round((done / total) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${done}/${total}`;
}

const SEVERITY_MARK = { error: "✘", warning: "⚠", info: "ℹ" } as const;

/** Prints validation findings, each with its evidence and its fix. */
export function renderFindings(findings: readonly Finding[], out: (text: string) => void): void {
  for (const f of findings) {
    const where = `${f.evidence.file}${f.evidence.line ? `:${f.evidence.line}` : ""}${f.evidence.key ? ` (${f.evidence.key})` : ""}`;
    out(`${SEVERITY_MARK[f.severity]} ${f.code}: ${f.message}`);
    out(`    evidence: ${where}${f.evidence.value ? `: ${f.evidence.value}` : ""}`);
    out(`    fix: ${f.fix}`);
  }
}

export function countBySeverity(findings: readonly Finding[]): string {
  const count = (s: Finding["severity"]) => findings.filter((f) => f.severity === s).length;
  return `${count("error")} error(s), ${count("warning")} warning(s), ${count("info")} note(s)`;
}

/** One built environment on one line: hash, state, Python, pins, when and how long. */
export function renderEnvironment(e: EnvironmentRecord, out: (text: string) => void): void {
  out(
    `${e.hash}  ${e.state === "ready" ? "✔ ready" : `✘ failed (${e.error?.code})`}  Python ${e.pythonVersion} on ${e.basePython}  ${e.requirements.length} pins  built ${e.builtAt} in ${(e.durationMs / 1000).toFixed(1)} s`,
  );
}
