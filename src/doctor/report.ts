/** A doctor report: the diagnoses, or what was checked when there are none. */
import { type DeploymentEvidence, eventsOf } from "../engine/index.js";
import { type Finding, isCode } from "../shared/index.js";
import { registrationFindings } from "./rules/package.js";
import type { Diagnosis, DoctorReport } from "./types.js";

export function doctorReport(
  target: string,
  diagnoses: Diagnosis[],
  checked: string[],
  startedAt: number,
  warnings: Finding[] = [],
): DoctorReport {
  const seen = new Set<string>();
  const lines = warnings
    .filter((f) => f.severity === "warning")
    .map((f) => `${f.code}: ${f.message}`)
    .filter((line) => !seen.has(line) && seen.add(line));
  return {
    target,
    ok: diagnoses.length === 0,
    diagnoses,
    checked,
    warnings: lines,
    ms: performance.now() - startedAt,
  };
}

/** Warnings a deployment carries: its version's validation warnings and its environment check's. */
export function deploymentWarnings(e: DeploymentEvidence): Finding[] {
  const fromEvents = eventsOf(e.events, "EnvironmentWarning").map((x) => x.data.finding);
  return [
    ...e.findings,
    ...registrationFindings(e.error),
    ...(e.error?.data?.warnings ?? []),
    ...fromEvents,
    ...refusedRequests(e),
  ];
}

/**
 * Requests refused with 400 because they did not fit the model: the clients' mistake, not the
 * model's (a model that fails on input it was fed correctly is a 424, ModelError). A warning per
 * code, with the latest refusal, so that nobody goes fixing a model that is fine.
 */
function refusedRequests(e: DeploymentEvidence): Finding[] {
  const total = Object.values(e.outcomes).reduce((a, b) => a + b, 0);
  return Object.entries(e.refused).flatMap(([code, { count, message }]) =>
    isCode(code)
      ? [
          {
            code,
            severity: "warning" as const,
            message: `${count} of ${total} request(s) did not fit what the model takes and were refused (400); the clients must change, not the model. Latest: ${message}`,
            evidence: { file: "requests" },
            fix: `Send requests in a form the model takes: \`pier doctor --model models:/NAME/VERSION\` lists its inputs and a request body for each route.`,
          },
        ]
      : [],
  );
}

/** What the doctor looked at for a deployment, in words. */
export function describeEvidence(e: DeploymentEvidence): string[] {
  const total = Object.values(e.outcomes).reduce((a, b) => a + b, 0);
  const byStatus = Object.entries(e.outcomes)
    .map(([status, n]) => `${n} × ${status}`)
    .join(", ");
  return [
    `provisioning state ${e.state}${e.error ? ` (${e.error.code})` : ""}`,
    `${e.findings.length} validation finding(s) of the model version, ${e.findings.filter((f) => f.severity === "error").length} error(s)`,
    `${e.events.length} event(s) of the latest create/update: ${[...new Set(e.events.map((x) => x.kind))].join(", ") || "none"}`,
    `${e.logs.length} log file(s): ${e.logs.map((l) => `${l.source} ${l.lines.filter(Boolean).length} lines`).join(", ") || "none"}`,
    `${e.instances.length} running instance(s): ${e.instances.map((i) => `${i.state}, ${i.restarts} restart(s), peak ${(i.peakRssBytes / 2 ** 20).toFixed(0)} MiB of ${(e.memoryLimitBytes / 2 ** 20).toFixed(0)} MiB`).join("; ") || "none"}`,
    `${total} request(s) since it started${byStatus ? `: ${byStatus}` : ""}`,
  ];
}
