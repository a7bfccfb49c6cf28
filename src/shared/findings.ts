/**
 * Findings: what a check found, without throwing. The same grammar as an error (a code from the one
 * table, the evidence, a fix) plus a severity, the changes a tool can apply, and the packages and
 * versions involved, so that consumers (the doctor, the CLI, a fixer) never read the prose.
 */
import type { Code } from "./codes.js";

export type Severity = "error" | "warning" | "info";

/** A change that removes a cause, in a form a tool can apply. */
export type FixAction =
  | { kind: "yaml"; key: string; value: string | number }
  | { kind: "pin"; file: string; requirement: string }
  /** Drop a package from an env file (and its siblings that list it). */
  | { kind: "unpin"; file: string; package: string }
  | { kind: "command"; command: string };

/** The package and versions a finding is about. */
export interface FindingSubject {
  package?: string;
  /** The version the model's files pin or were saved with. */
  version?: string;
  /** The version installed where the model would run. */
  installed?: string;
  /** A Requires-Python (or other) rule the version carries. */
  requires?: string;
  /** The Python the environment pins. */
  python?: string;
}

export interface Finding {
  code: Code;
  severity: Severity;
  message: string;
  evidence: { file: string; key?: string; line?: number; value?: string };
  fix: string;
  /** The fix as changes a tool can apply; empty when it needs a person. */
  actions?: FixAction[];
  subject?: FindingSubject;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Errors first, then warnings, then notes; stable otherwise. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings
    .map((finding, index) => ({ finding, index }))
    .sort(
      (a, b) => SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] || a.index - b.index,
    )
    .map(({ finding }) => finding);
}

export const hasErrors = (findings: readonly Finding[]): boolean =>
  findings.some((f) => f.severity === "error");

/** A finding as one line of evidence: "severity: CODE: message [file:line key] → fix". */
export function findingLine(f: Finding): string {
  return `${f.severity}: ${f.code}: ${f.message} [${f.evidence.file}${f.evidence.line ? `:${f.evidence.line}` : ""}${f.evidence.key ? ` ${f.evidence.key}` : ""}] → ${f.fix}`;
}
