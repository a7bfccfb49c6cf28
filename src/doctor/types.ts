/**
 * What the doctor says. What it reads is gathered by whoever holds it (the engine, as
 * DeploymentEvidence or PreflightEvidence); the rules are pure functions of that evidence.
 */
import type { Code, FixAction } from "../shared/index.js";

export interface Diagnosis {
  code: Code;
  /** One line: what is wrong. */
  cause: string;
  /** The exact lines that show it: log lines with source and line number, events, findings. */
  evidence: string[];
  fix: string;
  /** The fix as changes a tool can apply; empty when it needs a person. */
  actions: FixAction[];
}

export interface DoctorReport {
  target: string;
  ok: boolean;
  diagnoses: Diagnosis[];
  /** What was looked at, so "nothing wrong" says what it means. */
  checked: string[];
  /** Findings that do not stop the deployment but may explain odd behaviour ("CODE: message"). */
  warnings: string[];
  ms: number;
}
