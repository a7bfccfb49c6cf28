/**
 * Everything pier knows about a deployment, gathered for the doctor (and, later, rollouts and
 * monitors): its record and error, the model version's findings, the events of its latest attempt,
 * its instances' logs, and the outcomes of the requests it answered. Typed, so that no consumer
 * reads prose.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { DeploymentSpec } from "../config/index.js";
import type { ModelFailure } from "../runtime/index.js";
import type { Code, Finding, PierErrorJson } from "../shared/index.js";
import type { RecordedEvent } from "./events.js";
import type { DeploymentTarget } from "./routing.js";

export const STORAGE_INITIALIZER_LOG = "storage-initializer.log";
export const INFERENCE_SERVER_LOG = "inference-server.log";

export interface LogFile {
  /** e.g. "inference-server (blue-x1-0)". */
  source: string;
  path: string;
  lines: string[];
}

/** What clients got from a deployment since its current instances started. */
export interface RequestSummary {
  /** Requests by HTTP status. */
  outcomes: Record<string, number>;
  /** Latencies of recent successful requests. */
  latenciesMs: number[];
  /** The most requests (or client connections sending them) at once. */
  peakConcurrentRequests: number;
  /** Requests refused as not fitting the model (400), by code, with the latest message. */
  refused: Partial<Record<Code, { count: number; message: string }>>;
  /** Requests the model failed (424), by what its host named (a ModelFailure), with a count. */
  failures: Partial<Record<Code, ModelFailure & { count: number }>>;
}

/** Who keeps request outcomes (the gateway), as the engine reads them. */
export type RequestSummaries = (target: DeploymentTarget) => RequestSummary | undefined;

export const NO_REQUESTS: RequestSummary = {
  outcomes: {},
  latenciesMs: [],
  peakConcurrentRequests: 0,
  refused: {},
  failures: {},
};

export interface InstanceEvidence {
  id: string;
  state: string;
  restarts: number;
  peakRssBytes: number;
  loadMs: number;
}

/** The model version as a scoring script or a loader finds it: what is in AZUREML_MODEL_DIR, and where. */
export interface ModelLayout {
  /** models:/NAME/VERSION. */
  uri: string;
  /** A folder model keeps its name under AZUREML_MODEL_DIR; a file model lands in it (null). */
  folder: string | null;
  /** The version's files, relative to the model (a file model: its one name). */
  files: string[];
  /** MLmodel's python_function `code` key: where the project's own modules were logged (code_paths). */
  codeFolder: string | null;
}

export interface DeploymentEvidence extends RequestSummary {
  endpoint: string;
  deployment: string;
  spec: DeploymentSpec;
  memoryLimitBytes: number;
  state: string;
  error: PierErrorJson | null;
  /** Validation findings of the model version (registration). */
  findings: Finding[];
  /** Events of the latest create/update attempt, oldest first. */
  events: RecordedEvent[];
  logs: LogFile[];
  instances: InstanceEvidence[];
  /** How long requests that timed out really took, from answers that came late. */
  lateAnswersMs: number[];
  /** The registered version's files as they are laid out, when it has one. */
  model?: ModelLayout;
}

/** Evidence of a deployment with nothing recorded yet: the base a preflight (or a test) fills in. */
export function blankEvidence(
  spec: DeploymentSpec,
  memoryLimitBytes: number,
  state: string,
): DeploymentEvidence {
  return {
    endpoint: spec.endpoint_name,
    deployment: spec.name,
    spec,
    memoryLimitBytes,
    state,
    error: null,
    findings: [],
    events: [],
    logs: [],
    instances: [],
    ...NO_REQUESTS,
    lateAnswersMs: [],
  };
}

/** What a check before anything starts gathers: the package, the environment, a scoring script, memory. */
export interface PreflightEvidence {
  /** The model folder or URI checked, in words. */
  target: string;
  spec: DeploymentSpec;
  memoryLimitBytes: number;
  /** Validation findings of the model package. */
  findings: Finding[];
  /** The environment check's findings (warnings and notes), or the error a deployment would end with. */
  environmentFindings: Finding[];
  environmentError: PierErrorJson | null;
  /** Bytes of the model's files: an instance holds at least this much. */
  modelBytes: number;
  /** For a scoring script: its text, to find init() and run(). */
  script?: { name: string; text: string };
  /** What was looked at, in words. */
  checked: string[];
}

/** The events of a deployment's latest attempt: from its last Creating/Updating on. */
export function latestAttempt(events: readonly RecordedEvent[]): RecordedEvent[] {
  const start = events.findLastIndex(
    (e) => e.instance === null && (e.kind === "Creating" || e.kind === "Updating"),
  );
  return events.slice(Math.max(0, start));
}

/** The folders of a deployment's newest generation of instances (its latest create or update). */
export function currentInstanceDirs(
  home: string,
  endpoint: string,
  name: string,
): { dir: string; id: string }[] {
  const base = join(home, "instances", endpoint, name);
  if (!existsSync(base)) return [];
  const dirs = readdirSync(base).map((d) => ({
    d,
    generation: d.split("-")[0]!,
    mtime: statSync(join(base, d)).mtimeMs,
  }));
  const newest = dirs.sort((a, b) => b.mtime - a.mtime)[0]?.generation;
  return dirs
    .filter((x) => x.generation === newest)
    .sort((a, b) => a.d.localeCompare(b.d))
    .map(({ d }) => ({ dir: join(base, d), id: d }));
}

/** The inference-server and storage-initializer logs of the newest instances, up to their last 5000 lines. */
export function instanceLogs(home: string, endpoint: string, name: string): LogFile[] {
  return currentInstanceDirs(home, endpoint, name).flatMap(({ dir, id }) =>
    [INFERENCE_SERVER_LOG, STORAGE_INITIALIZER_LOG]
      .map((file) => join(dir, file))
      .filter((path) => existsSync(path))
      .map((path) => ({
        source: `${basename(path, ".log")} (${id})`,
        path,
        lines: readFileSync(path, "utf8").split("\n").slice(-5000),
      })),
  );
}

/** The last `lines` lines of one container's log for each of the newest instances. */
export function tailLogs(
  home: string,
  endpoint: string,
  name: string,
  container: "inference-server" | "storage-initializer",
  lines: number,
): string {
  const file = container === "storage-initializer" ? STORAGE_INITIALIZER_LOG : INFERENCE_SERVER_LOG;
  const current = currentInstanceDirs(home, endpoint, name);
  return current
    .map(({ dir, id }) => {
      const path = join(dir, file);
      const text = existsSync(path) ? readFileSync(path, "utf8") : "";
      const tail = text
        .split("\n")
        .filter((l, i, all) => l !== "" || i < all.length - 1)
        .slice(-lines);
      return current.length > 1 ? tail.map((l) => `[${name}-${id}] ${l}`).join("\n") : tail.join("\n");
    })
    .join("\n");
}
