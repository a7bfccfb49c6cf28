/**
 * What an export is made from: an endpoint and its deployments as pier runs them, with what pier
 * measured while they ran (start time, peak memory, latency, concurrency) and the choices those
 * measurements support, each with the reason a person reads in the export's README.
 */

import { execFileSync } from "node:child_process";
import { basename } from "node:path";
import { parse } from "yaml";
import { type DeploymentSpec, type EndpointSpec, findInstanceType, INSTANCE_TYPES } from "../config/index.js";
import type { DeploymentEvidence } from "../engine/index.js";
import { parseCondaSpec, parsePipRequirement } from "../env/index.js";
import type { ModelVersion } from "../registry/index.js";
import { nearestRank } from "../shared/index.js";

/** A deployment's code snapshot: its files in the artifact store, the scoring script, the conda file. */
export interface ExportCode {
  files: { path: string; sha256: string; size: number }[];
  scoringScript: string;
  conda: { file: string; text: string; includes?: Record<string, string> } | null;
}

export interface ExportDeployment {
  name: string;
  spec: DeploymentSpec;
  model: ModelVersion;
  code: ExportCode | null;
  evidence: DeploymentEvidence;
}

export interface ExportSource {
  endpoint: {
    name: string;
    spec: EndpointSpec;
    traffic: Record<string, number>;
    mirrorTraffic: Record<string, number>;
  };
  deployments: ExportDeployment[];
  /** Writes stored files (by hash) into a folder, verifying each. */
  materialize(files: { path: string; sha256: string; size: number }[], dir: string): void;
}

/** What the model is, for the engines that serve it. */
export type ModelKind = "onnx" | "sklearn" | "pyfunc" | "script";

export function modelKind(d: ExportDeployment): ModelKind {
  if (d.code) return "script";
  if (d.model.flavors.onnx) return "onnx";
  if (d.model.flavors.sklearn) return "sklearn";
  return "pyfunc";
}

/** Measured while pier ran the deployment. */
export interface Measured {
  /** Storage init + process start + model load, the slowest instance's. */
  startMs: number | null;
  peakMemoryMiB: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  requests: number;
  peakConcurrency: number;
}

const quantile = (sorted: number[], p: number) => nearestRank(sorted, p) ?? null;

export function measured(evidence: DeploymentEvidence): Measured {
  const ready = evidence.events.flatMap((e) => (e.kind === "Ready" ? [e.data.startMs] : []));
  const peaks = evidence.instances.map((i) => i.peakRssBytes).filter((b) => b > 0);
  const sorted = [...evidence.latenciesMs].sort((a, b) => a - b);
  return {
    startMs: ready.length ? Math.max(...ready) : null,
    peakMemoryMiB: peaks.length ? Math.ceil(Math.max(...peaks) / 2 ** 20) : null,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    requests: Object.values(evidence.outcomes).reduce((s, n) => s + n, 0),
    peakConcurrency: evidence.peakConcurrentRequests,
  };
}

/** A value pier chose for the export, and why. */
export interface Choice<T> {
  value: T;
  why: string;
}

/** Memory asked for beyond the measured peak. */
export const MEMORY_MARGIN = 2;
/** Start-up time allowed beyond the measured one (a cloud instance pulls, mounts and starts slower). */
const START_MARGIN = 3;

/** The smallest instance type (2 vCPUs or more) whose memory holds the measured peak with margin. */
export function chooseInstanceType(spec: DeploymentSpec, m: Measured): Choice<string> {
  if (m.peakMemoryMiB === null)
    return {
      value: spec.instance_type,
      why: "kept from the deployment: no instance ran long enough to measure its memory",
    };
  const needMiB = m.peakMemoryMiB * MEMORY_MARGIN;
  const fits = INSTANCE_TYPES.filter((t) => t.vcpus >= 2 && t.memoryGiB * 1024 >= needMiB).sort(
    (a, b) => a.memoryGiB - b.memoryGiB || a.vcpus - b.vcpus,
  );
  const declared = findInstanceType(spec.instance_type);
  const chosen = fits[0];
  if (!chosen)
    return {
      value: spec.instance_type,
      why: `kept: no listed size holds peak ${m.peakMemoryMiB} MiB × ${MEMORY_MARGIN}`,
    };
  const why = `peak ${m.peakMemoryMiB} MiB × ${MEMORY_MARGIN} margin = ${needMiB} MiB; ${chosen.name} has ${chosen.memoryGiB} GiB and ${chosen.vcpus} vCPUs${declared && declared.name !== chosen.name ? ` (the deployment named ${declared.name}, ${declared.memoryGiB} GiB)` : ""}`;
  return { value: chosen.name, why };
}

/** Probe timings: Azure's defaults unless the measured start, with margin, needs a longer initial delay. */
export function chooseProbes(
  spec: DeploymentSpec,
  m: Measured,
): Choice<{ liveness: DeploymentSpec["liveness_probe"]; readiness: DeploymentSpec["readiness_probe"] }> {
  const needS = m.startMs === null ? 0 : Math.ceil((m.startMs * START_MARGIN) / 1000);
  const initial = Math.max(spec.liveness_probe.initial_delay, spec.readiness_probe.initial_delay, needS);
  const probe = (p: DeploymentSpec["liveness_probe"]) => ({
    ...p,
    initial_delay: Math.max(p.initial_delay, needS),
  });
  return {
    value: { liveness: probe(spec.liveness_probe), readiness: probe(spec.readiness_probe) },
    why:
      m.startMs === null
        ? "kept from the deployment: no start was measured"
        : `measured start ${(m.startMs / 1000).toFixed(2)} s × ${START_MARGIN} margin = ${needS} s; initial_delay ${initial} s (the probes give up after initial_delay + period × failure_threshold = ${initial + spec.liveness_probe.period * spec.liveness_probe.failure_threshold} s)`,
  };
}

/** Request settings: the deployment's, with the timeout raised when the measured p99 leaves too little room. */
export function chooseRequestSettings(
  spec: DeploymentSpec,
  m: Measured,
): Choice<DeploymentSpec["request_settings"]> {
  const settings = { ...spec.request_settings };
  delete settings.max_queue_wait_ms;
  const notes: string[] = [];
  if (m.p99Ms !== null) {
    const room = Math.min(180_000, Math.ceil((m.p99Ms * 10) / 1000) * 1000);
    if (room > settings.request_timeout_ms) {
      notes.push(`request_timeout_ms raised to ${room} (10 × the measured p99 ${m.p99Ms.toFixed(1)} ms)`);
      settings.request_timeout_ms = room;
    } else
      notes.push(
        `request_timeout_ms ${settings.request_timeout_ms} is over 10 × the measured p99 (${m.p99Ms.toFixed(1)} ms)`,
      );
  }
  const slots = settings.max_concurrent_requests_per_instance * spec.instance_count;
  if (m.peakConcurrency > 0)
    notes.push(
      `max_concurrent_requests_per_instance ${settings.max_concurrent_requests_per_instance} × ${spec.instance_count} instance(s) = ${slots} slots; the most clients at once here: ${m.peakConcurrency}${m.peakConcurrency > 2 * slots ? " (more than 2 × the slots: Azure answers 429 past that)" : ""}`,
    );
  return { value: settings, why: notes.join("; ") || "kept from the deployment: no requests were measured" };
}

/** environment_variables pier reads itself (PIER_*): never carried to another engine. */
export function pierOnlyVariables(spec: DeploymentSpec): string[] {
  return Object.keys(spec.environment_variables ?? {}).filter((k) => k.startsWith("PIER_"));
}

/** Packages a conda file leaves unpinned (python and pip themselves aside): a cloud build takes their newest release. */
export function unpinnedPackages(condaText: string, file: string): string[] {
  let doc: { dependencies?: unknown[] } | undefined;
  try {
    doc = parse(condaText) as typeof doc;
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const dep of doc?.dependencies ?? []) {
    if (typeof dep === "string") {
      const r = parseCondaSpec(dep, file, 0);
      if (!r.pinned && r.name !== "python" && r.name !== "pip") names.push(r.name);
    } else if (dep && typeof dep === "object" && Array.isArray((dep as { pip?: unknown }).pip))
      for (const line of (dep as { pip: unknown[] }).pip) {
        if (typeof line !== "string" || line.startsWith("-")) continue;
        const r = parsePipRequirement(line, file, 0);
        if (!r.pinned && !r.problem) names.push(r.name);
      }
  }
  return names;
}

const VERSIONS_SCRIPT = `
import json, sys
from importlib import metadata
out = {}
for name in json.loads(sys.argv[1]):
    try:
        out[name] = metadata.version(name)
    except Exception:
        out[name] = None
print(json.dumps(out))
`;

/**
 * The versions of `names` installed in the Python the deployment's instances ran (from the command of
 * its latest ProcessStarted event); none for a deployment that ran no Python.
 */
export function ranVersions(
  evidence: DeploymentEvidence,
  names: string[],
): { python: string; versions: Record<string, string> } | undefined {
  if (names.length === 0) return undefined;
  const started = [...evidence.events].reverse().find((e) => e.kind === "ProcessStarted");
  const python = started?.kind === "ProcessStarted" ? started.data.command.split(" ")[0] : undefined;
  if (!python || !/python/.test(basename(python))) return undefined;
  try {
    const out = JSON.parse(
      execFileSync(python, ["-c", VERSIONS_SCRIPT, JSON.stringify(names)], {
        encoding: "utf8",
        timeout: 15_000,
      }),
    ) as Record<string, string | null>;
    return {
      python,
      versions: Object.fromEntries(
        Object.entries(out).filter((e): e is [string, string] => typeof e[1] === "string"),
      ),
    };
  } catch {
    return undefined;
  }
}

/** The conda file with each unpinned package that has a version here written as name==version (comments kept). */
export function pinConda(text: string, versions: Record<string, string>): string {
  const normal = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");
  const byName = new Map(Object.entries(versions).map(([n, v]) => [normal(n), v]));
  return text
    .split("\n")
    .map((line) => {
      const match = /^(\s*-\s*)([A-Za-z0-9][\w.-]*)(\s*(?:#.*)?)$/.exec(line);
      const version = match ? byName.get(normal(match[2]!)) : undefined;
      return match && version ? `${match[1]}${match[2]}==${version}${match[3]}` : line;
    })
    .join("\n");
}
