/** Validation findings: a stable code, a severity, the evidence (file and key) and a fix. */

export type Severity = "error" | "warning" | "info";

export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  evidence: { file: string; key?: string; line?: number; value?: string };
  fix: string;
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
