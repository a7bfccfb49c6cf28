/** How evidence is quoted in a diagnosis: events, findings and log lines, each with where it came from. */
import type { DeploymentEvidence, RecordedEvent } from "../../engine/index.js";
import { type Finding, nearestRank } from "../../shared/index.js";

/** A size as people read it: MiB up to 10 GiB, GiB (one decimal) past that. */
export const mib = (bytes: number) =>
  bytes >= 10 * 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export const eventLine = (e: RecordedEvent) =>
  `event ${e.at} ${e.kind}${e.instance ? ` [${e.instance}]` : ""}: ${e.message}`;

/** A finding as a line of evidence: its code, severity, file, line and key. */
export const findingEvidence = (f: Finding) =>
  `finding ${f.code} (${f.severity}) in ${f.evidence.file}${f.evidence.line ? `:${f.evidence.line}` : ""}${f.evidence.key ? ` ${f.evidence.key}` : ""}: ${f.message}`;

/** Log lines matching `pattern`, each with its file and line number; at most `limit`. */
export function logEvidence(evidence: DeploymentEvidence, pattern: RegExp, limit = 6): string[] {
  const out: string[] = [];
  for (const log of evidence.logs) {
    log.lines.forEach((line, index) => {
      if (out.length < limit && pattern.test(line)) out.push(`${log.path}:${index + 1}: ${line.trim()}`);
    });
  }
  return out;
}

/** The last `count` non-empty lines of each inference-server log, with file and line number. */
export function lastLogLines(evidence: DeploymentEvidence, count: number): string[] {
  return evidence.logs
    .filter((log) => log.source.startsWith("inference-server"))
    .flatMap((log) =>
      log.lines
        .map((line, i) => ({ line, i }))
        .filter((x) => x.line.trim())
        .slice(-count)
        .map((x) => `${log.path}:${x.i + 1}: ${x.line.trim()}`),
    );
}

/** The `q` quantile (nearest rank) of `xs`; 0 for none. */
export const quantile = (xs: readonly number[], q: number) =>
  nearestRank(
    [...xs].sort((a, b) => a - b),
    q,
  ) ?? 0;
