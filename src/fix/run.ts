/**
 * `pier doctor --fix`, round by round: take the most fundamental diagnosis that carries actions,
 * show its change as diffs of the deployment's own files, ask, keep a copy, write, apply the
 * deployment again and wait for the outcome, send a smoke request, and say before → after. A new
 * cause with actions gets another round, and so does the same cause when what it now asks for goes
 * further than what was just written (a timeout twice the one that still timed out, a memory limit
 * above the peak it still hit): at most `maxRounds` (five). A change that did not help is undone.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Diagnosis } from "../doctor/index.js";
import type { Code, FixAction } from "../shared/index.js";
import { unifiedDiff } from "./edits.js";
import { type FixPlan, planFix } from "./plan.js";

/** What applying the files again gave: the state and the diagnoses that remain. */
export interface ApplyOutcome {
  state: string;
  diagnoses: Diagnosis[];
}

const MAX_ROUNDS = 5;

export interface FixSession {
  deploymentFile: string;
  /** The diagnoses now, most fundamental first. */
  diagnose(): Promise<Diagnosis[]>;
  /** Applies the deployment file again (an update, or a new preflight) and waits for the outcome. */
  apply(): Promise<ApplyOutcome>;
  /** A request the deployment should answer once it serves; undefined when there is nothing to send. */
  smoke?(): Promise<{ ok: boolean; detail: string } | undefined>;
  /** Whether to write the plan (the user's yes, or --yes). */
  confirm(plan: FixPlan, diagnosis: Diagnosis): Promise<boolean>;
  out(line: string): void;
  /** Where copies of the files go before they are written. */
  backupDir: string;
  dryRun: boolean;
  maxRounds?: number;
}

export type RoundOutcome =
  | "served" // applied; the deployment Succeeded and answered its smoke request (or had none to answer)
  | "planned" // --dry-run
  | "declined" // the user said no
  | "undone" // applied, did not help, the files were restored
  | "moved-on" // applied; another cause came next
  | "manual"; // nothing a file change can do

export interface FixRound {
  code: Code;
  cause: string;
  actions: FixAction[];
  diff: string;
  outcome: RoundOutcome;
  /** What the attempt showed: the state after, the next cause, the smoke request's answer. */
  after: string;
  files: string[];
}

/** The lines a person edits when no action can: the fix, and the file and line the evidence names. */
function manualSteps(d: Diagnosis): string[] {
  const places = d.evidence
    .filter((e) => /(\.py|\.ya?ml|\.txt|MLmodel)", line \d+|:\d+[: ]/.test(e))
    .slice(0, 2);
  return [
    `✘ ${d.code}: ${d.cause}`,
    `  pier cannot change this in a file; by hand: ${d.fix}`,
    ...places.map((p) => `  at ${p.trim()}`),
  ];
}

export async function runFix(session: FixSession): Promise<{ rounds: FixRound[]; ok: boolean }> {
  const rounds: FixRound[] = [];
  let diagnoses = await session.diagnose();
  if (diagnoses.length === 0) {
    session.out("✔ Nothing wrong found: nothing to fix.");
    return { rounds, ok: true };
  }
  /** The actions already written, so the same fix is never applied twice. */
  const tried = new Set<string>();
  /** The files as they were before this cause's first round: what an undo goes back to. */
  let chain = new Map<string, string>();
  for (let round = 1; round <= (session.maxRounds ?? MAX_ROUNDS); round++) {
    const diagnosis = diagnoses.find((d) => d.actions.length > 0);
    if (!diagnosis) {
      for (const line of manualSteps(diagnoses[0]!)) session.out(line);
      rounds.push({
        code: diagnoses[0]!.code,
        cause: diagnoses[0]!.cause,
        actions: [],
        diff: "",
        outcome: "manual",
        after: diagnoses[0]!.fix,
        files: [],
      });
      return { rounds, ok: false };
    }
    tried.add(JSON.stringify(diagnosis.actions));
    const plan = planFix(diagnosis.actions, { deploymentFile: session.deploymentFile });
    const diff = plan.changes.map((c) => unifiedDiff(c.path, c.before, c.after)).join("\n");
    const files = plan.changes.map((c) => c.path);
    session.out(`Round ${round}: ${diagnosis.code}: ${diagnosis.cause}`);
    if (diff) session.out(diff);
    for (const step of plan.manual) session.out(`  by hand: ${step}`);
    if (plan.environment)
      session.out(
        "  This changes the model's environment: the deployment registers a new model version and uses (or builds) the environment its pins need.",
      );
    const record = (outcome: RoundOutcome, after: string) =>
      rounds.push({
        code: diagnosis.code,
        cause: diagnosis.cause,
        actions: diagnosis.actions,
        diff,
        outcome,
        after,
        files,
      });
    if (plan.changes.length === 0) {
      for (const line of manualSteps(diagnosis)) session.out(line);
      record("manual", plan.manual.join("; ") || diagnosis.fix);
      return { rounds, ok: false };
    }
    if (session.dryRun) {
      record("planned", "--dry-run: nothing written");
      return { rounds, ok: false };
    }
    if (!(await session.confirm(plan, diagnosis))) {
      record("declined", "nothing written");
      return { rounds, ok: false };
    }
    const backup = join(session.backupDir, `round-${round}`);
    mkdirSync(backup, { recursive: true });
    for (const [i, change] of plan.changes.entries())
      copyFileSync(change.path, join(backup, `${i}-${basename(change.path)}`));
    for (const change of plan.changes) {
      if (!chain.has(change.path)) chain.set(change.path, change.before);
      writeFileSync(change.path, change.after);
    }
    session.out(`  wrote ${files.length} file(s); copies in ${backup}`);
    const restore = () => {
      for (const [path, before] of chain) writeFileSync(path, before);
    };
    let outcome: ApplyOutcome;
    try {
      outcome = await session.apply();
    } catch (error) {
      restore();
      const message = (error as Error).message;
      session.out(`✘ applying it failed (${message}); the files are restored`);
      record("undone", message);
      return { rounds, ok: false };
    }
    if (outcome.state === "Succeeded" && outcome.diagnoses.length === 0) {
      const smoke = session.smoke ? await session.smoke() : undefined;
      if (!smoke || smoke.ok) {
        const after = `${outcome.state}${smoke ? `; smoke request: ${smoke.detail}` : ""}`;
        session.out(`✔ ${diagnosis.code} fixed: ${after}`);
        record("served", after);
        return { rounds, ok: true };
      }
      diagnoses = await session.diagnose();
      if (diagnoses.length === 0) {
        session.out(`✘ it Succeeded but the smoke request failed: ${smoke.detail}`);
        record("moved-on", `smoke request: ${smoke.detail}`);
        return { rounds, ok: false };
      }
    } else diagnoses = outcome.diagnoses.length > 0 ? outcome.diagnoses : await session.diagnose();
    const next = diagnoses[0];
    // The same cause, asking for more than what was just written: keep going from here.
    if (next && next.code === diagnosis.code && next.actions.length > 0) {
      const further = planFix(next.actions, { deploymentFile: session.deploymentFile });
      const key = JSON.stringify(next.actions);
      if (further.changes.length > 0 && !tried.has(key)) {
        tried.add(key);
        session.out(`  still ${next.code}, and it now asks for more: ${next.cause}`);
        record("moved-on", `${outcome.state}; still ${next.code}, its fix goes further`);
        continue;
      }
    }
    if (!next || next.code === diagnosis.code) {
      restore();
      const shown = `${outcome.state}${next ? `; still ${next.code}: ${next.cause}` : ""}`;
      session.out(`✘ the change did not help (${shown}); the files are restored`);
      record("undone", shown);
      return { rounds, ok: false };
    }
    session.out(`  ${diagnosis.code} is gone; next: ${next.code}: ${next.cause}`);
    record("moved-on", `${outcome.state}; next ${next.code}`);
    chain = new Map();
  }
  session.out(`✘ still not serving after ${session.maxRounds ?? MAX_ROUNDS} rounds`);
  return { rounds, ok: false };
}
