/**
 * What the doctor reads and what it says. Evidence is gathered by whoever holds it (the engine for a
 * deployment, the registry and the interpreter probe for a preflight); the rules are pure.
 */
import type { DeploymentSpec } from "../config/index.js";
import type { Finding, PierErrorJson } from "../shared/index.js";

export interface DoctorEvent {
  at: string;
  instance: string | null;
  kind: string;
  message: string;
  data: Record<string, unknown> | null;
}

export interface LogFile {
  /** e.g. "inference-server (blue-x1-0)". */
  source: string;
  path: string;
  lines: string[];
}

export interface DeploymentEvidence {
  endpoint: string;
  deployment: string;
  spec: DeploymentSpec;
  /** The YAML key that sets the memory limit: resources.limits.memory when given, else instance_type. */
  memoryLimitBytes: number;
  state: string;
  error: PierErrorJson | null;
  /** Validation findings of the model version (registration). */
  findings: Finding[];
  /** Events of the latest create/update attempt, oldest first. */
  events: DoctorEvent[];
  logs: LogFile[];
  instances: { id: string; state: string; restarts: number; peakRssBytes: number; loadMs: number }[];
  /** Requests since the deployment (re)started: count by HTTP status. */
  outcomes: Record<string, number>;
  latenciesMs: number[];
  /** How long requests that timed out really took, from answers that came late. */
  lateAnswersMs: number[];
  /** The most requests (or client connections sending them) at once. */
  peakConcurrentRequests: number;
}

/** A change that makes the cause go away, in a form a tool (or the fault corpus) can apply. */
export type FixAction =
  | { kind: "yaml"; key: string; value: string | number }
  | { kind: "pin"; file: string; requirement: string }
  | { kind: "command"; command: string };

export interface Diagnosis {
  code: string;
  /** One line: what is wrong. */
  cause: string;
  /** The exact lines that show it: log lines with source and line number, events, findings. */
  evidence: string[];
  fix: string;
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
