/**
 * A rollout as it is planned and recorded: its steps (smoke → shadow bake → traffic steps → promote),
 * and the decision record of each (its window, every metric next to its threshold, the verdict and
 * why), kept in pier.db so that a rollout survives pier and its history can be read afterwards.
 */
import type { RolloutSpec } from "../config/index.js";
import type { Diagnosis } from "../doctor/index.js";
import { openPierDatabase, type PierDatabase, RecordTable, recordTableSql } from "../shared/index.js";
import type { Check, Verdict } from "./analysis.js";

const ROLLOUT_MIGRATIONS = [
  {
    name: "rollout-001",
    sql: `
      ${recordTableSql("rollouts", "endpoint")}
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
  /** What the plan found before any traffic moved: a capacity shortfall, the data collection inherited. */
  plan?: string[];
  /** The doctor on the new deployment when it was rolled back. */
  diagnosis?: Diagnosis[];
}

export class RolloutStore {
  readonly db: PierDatabase;
  readonly #records: RecordTable<RolloutRecord>;

  constructor(home: string) {
    this.db = openPierDatabase(home, ROLLOUT_MIGRATIONS);
    this.#records = new RecordTable(this.db, "rollouts", "endpoint");
  }

  insert(record: Omit<RolloutRecord, "id">): RolloutRecord {
    return this.#records.insert(record.endpoint, record);
  }

  save(record: RolloutRecord): void {
    this.#records.save(record);
  }

  /** The endpoint's rollout that is Running or Held, if any. */
  open(endpoint: string): RolloutRecord | undefined {
    return this.#records.find({ key: endpoint, states: OPEN_STATES }, "newest", 1)[0];
  }

  /** Every endpoint's rollout that is Running or Held. */
  openAll(): RolloutRecord[] {
    return this.#records.find({ states: OPEN_STATES }, "oldest", 10_000);
  }

  /** Every rollout Running when pier stopped. */
  running(): RolloutRecord[] {
    return this.#records.find({ states: ["Running"] }, "oldest", 10_000);
  }

  /** The endpoint's rollouts, newest first. */
  history(endpoint: string, limit = 50): RolloutRecord[] {
    return this.#records.find({ key: endpoint }, "newest", limit);
  }

  close(): void {
    this.db.close();
  }
}
