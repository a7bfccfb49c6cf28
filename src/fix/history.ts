/**
 * Every fix `pier doctor --fix` applied, in the pier home (fixes.jsonl, one JSON line per attempt,
 * owner-only): the deployment, its rounds with their diffs and outcomes, and the time from the
 * failure to a serving deployment.
 */
import { appendFileSync, chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FixRound } from "./run.js";

export interface FixRecord {
  at: string;
  /** "endpoint/deployment", or the model folder of a preflight. */
  target: string;
  endpoint: string | null;
  deploymentFile: string;
  rounds: FixRound[];
  ok: boolean;
  /** From the failure (its event, or the start of the fix) to a serving deployment; null when it did not serve. */
  msToServing: number | null;
}

const FILE = "fixes.jsonl";

export function recordFix(home: string, record: FixRecord): void {
  const path = join(home, FILE);
  appendFileSync(path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** The fixes applied, oldest first; only an endpoint's when one is named. */
export function readFixes(home: string, endpoint?: string): FixRecord[] {
  const path = join(home, FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as FixRecord];
      } catch {
        return [];
      }
    })
    .filter((r) => endpoint === undefined || r.endpoint === endpoint);
}
