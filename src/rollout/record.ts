/**
 * A rollout as it is planned and recorded: its steps (smoke → shadow bake → traffic steps → promote),
 * and the decision record of each (its window, every metric next to its threshold, the verdict and
 * why), kept in pier.db so that a rollout survives pier and its history can be read afterwards.
 */
import type { RolloutSpec } from "../config/index.js";
import type { Diagnosis } from "../doctor/index.js";
import { openPierDatabase, type PierDatabase } from "../shared/index.js";
import type { Check, Verdict } from "./analysis.js";

const ROLLOUT_MIGRATIONS = [
  {
    name: "rollout-001",
    sql: `
      CREATE TABLE rollouts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint TEXT NOT NULL,
        state TEXT NOT NULL,
        record TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX rollouts_by_endpoint ON rollouts(endpoint, id);
    `,
  },
];

/** Running: a step is under way; Held: stopped with the stable serving everything, until resumed or aborted. */
export type RolloutState = "Running" | "Held" | "Succeeded" | "RolledBack" | "Aborted";
export const OPEN_STATES: readonly RolloutState[] = ["Running", "Held"];

export type PlannedStep =
  | { kind: "smoke" }
  | { kind: "shadow"; mirrorPercent: number; bakeSeconds: number }
  | { kind: "traffic"; weight: number; bakeSeconds: number }
  | { kind: "promote"; terminationSeconds: number };

/** The steps of a rollout, from its strategy. */
export function planSteps(spec: RolloutSpec): PlannedStep[] {
  const bake = spec.strategy.wait_interval_seconds;
  const steps: PlannedStep[] = [{ kind: "smoke" }];
  if (spec.shadow.mirror_percent > 0)
    steps.push({
      kind: "shadow",
      mirrorPercent: spec.shadow.mirror_percent,
      bakeSeconds: spec.shadow.wait_interval_seconds ?? bake,
    });
  const weights =
    spec.strategy.type === "canary"
      ? [spec.strategy.canary_size, 100]
      : spec.strategy.type === "linear"
        ? [
            ...Array.from(
              { length: Math.ceil(100 / spec.strategy.linear_step_size) - 1 },
              (_, i) => (i + 1) * spec.strategy.linear_step_size,
            ),
            100,
          ]
        : [100];
  for (const weight of weights) steps.push({ kind: "traffic", weight, bakeSeconds: bake });
  steps.push({ kind: "promote", terminationSeconds: spec.termination_wait_seconds });
  return steps;
}

/** A step as people read it: "smoke", "shadow 20 %", "canary 10 %", "linear 50 %", "all 100 %", "promote". */
export function stepLabel(step: PlannedStep, spec: RolloutSpec): string {
  if (step.kind === "smoke" || step.kind === "promote") return step.kind;
  if (step.kind === "shadow") return `shadow ${step.mirrorPercent} %`;
  if (step.weight === 100) return "all 100 %";
  return `${spec.strategy.type} ${step.weight} %`;
}

/** What one deployment did in a step's window, as the record keeps it. */
export interface SideSummary {
  requests: number;
  failures: Record<string, number>;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface StepRecord {
  index: number;
  label: string;
  startedAt: string;
  endedAt?: string;
  candidate?: SideSummary;
  stable?: SideSummary;
  compared?: number;
  checks?: Check[];
  /** done: a step without analysis (smoke, promote) that completed. */
  verdict?: Verdict | "done";
  reason?: string;
}

export interface RolloutRecord {
  id: number;
  endpoint: string;
  candidate: string;
  stable: string;
  spec: RolloutSpec;
  state: RolloutState;
  /** The step under way (or where it ended). */
  step: number;
  startedAt: string;
  /** When the execution timeout holds it (from its start, or from its last resume). */
  deadlineAt: string;
  endedAt?: string;
  /** Why it ended (or why it is held). */
  reason?: string;
  steps: StepRecord[];
  /** Things that happened to the rollout itself: a restart, a manual promote. */
  notes: string[];
  /** The doctor on the new deployment when it was rolled back. */
  diagnosis?: Diagnosis[];
}

export class RolloutStore {
  readonly db: PierDatabase;

  constructor(home: string) {
    this.db = openPierDatabase(home, ROLLOUT_MIGRATIONS);
  }

  insert(record: Omit<RolloutRecord, "id">): RolloutRecord {
    const now = Date.now();
    const id = Number(
      this.db
        .prepare(
          "INSERT INTO rollouts (endpoint, state, record, started_at, updated_at) VALUES (?, ?, '{}', ?, ?)",
        )
        .run(record.endpoint, record.state, now, now).lastInsertRowid,
    );
    const full = { ...record, id };
    this.save(full);
    return full;
  }

  save(record: RolloutRecord): void {
    this.db
      .prepare("UPDATE rollouts SET state = ?, record = ?, updated_at = ? WHERE id = ?")
      .run(record.state, JSON.stringify(record), Date.now(), record.id);
  }

  /** The endpoint's rollout that is Running or Held, if any. */
  open(endpoint: string): RolloutRecord | undefined {
    const row = this.db
      .prepare(
        `SELECT record FROM rollouts WHERE endpoint = ? AND state IN (${OPEN_STATES.map(() => "?").join(", ")}) ORDER BY id DESC LIMIT 1`,
      )
      .get(endpoint, ...OPEN_STATES) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as RolloutRecord) : undefined;
  }

  /** Every endpoint's rollout that is Running or Held. */
  openAll(): RolloutRecord[] {
    return (
      this.db
        .prepare(
          `SELECT record FROM rollouts WHERE state IN (${OPEN_STATES.map(() => "?").join(", ")}) ORDER BY id`,
        )
        .all(...OPEN_STATES) as { record: string }[]
    ).map((r) => JSON.parse(r.record) as RolloutRecord);
  }

  /** Every rollout Running when pier stopped. */
  running(): RolloutRecord[] {
    return (
      this.db.prepare("SELECT record FROM rollouts WHERE state = 'Running' ORDER BY id").all() as {
        record: string;
      }[]
    ).map((r) => JSON.parse(r.record) as RolloutRecord);
  }

  /** The endpoint's rollouts, newest first. */
  history(endpoint: string, limit = 50): RolloutRecord[] {
    return (
      this.db
        .prepare("SELECT record FROM rollouts WHERE endpoint = ? ORDER BY id DESC LIMIT ?")
        .all(endpoint, limit) as {
        record: string;
      }[]
    ).map((r) => JSON.parse(r.record) as RolloutRecord);
  }

  close(): void {
    this.db.close();
  }
}
