/** A pipeline run's decision record, kept in pier.db (table pipeline_runs) as it goes. */
import type { PipelineSpec } from "../config/index.js";
import {
  openPierDatabase,
  type PierDatabase,
  type PierErrorJson,
  RecordTable,
  recordTableSql,
} from "../shared/index.js";
import type { Evaluation } from "../training/index.js";
import type { Gate } from "./gate.js";

export type StepName = "data" | "train" | "evaluate" | "gate" | "approval" | "register" | "rollout";

export type RunState =
  | "Running"
  | "WaitingApproval"
  | "Succeeded"
  | "Held"
  | "Rejected"
  | "RolledBack"
  | "Failed"
  | "Interrupted";

const OPEN_RUN_STATES: readonly RunState[] = ["Running", "WaitingApproval"];

export interface StepRecord {
  name: StepName;
  /** stopped: the step ran and decided to end the run (a gate HOLD or REJECT, a rollback, a rejection). */
  state: "running" | "done" | "cached" | "skipped" | "waiting" | "failed" | "stopped";
  startedAt: string;
  ms?: number;
  detail?: string;
  /** The content key a cached step is found by. */
  key?: string;
}

export interface RunRecord {
  id: number;
  name: string;
  state: RunState;
  startedAt: string;
  endedAt?: string;
  /** The pipeline file as given, and where it came from. */
  source: string;
  document: unknown;
  spec: PipelineSpec;
  forced: boolean;
  steps: StepRecord[];
  inputs?: { data: string; sha256: string; rows: number };
  params?: Record<string, unknown>;
  leakage?: { feature: string; auc: number }[];
  challenger?: { key: string; dir: string; evaluation: Evaluation };
  champion?: { version: number; evaluation: Evaluation } | null;
  gate?: Gate;
  approval?: { decision: "approved" | "rejected"; by: string; at: string; comment: string };
  registered?: { name: string; version: number };
  deployment?: string;
  rollout?: { id: number | null; state: string; reason?: string };
  outcome?: string;
  error?: PierErrorJson;
}

const MIGRATIONS = [
  {
    name: "pipeline-001",
    sql: recordTableSql("pipeline_runs", "name"),
  },
];

export class RunStore {
  readonly db: PierDatabase;
  readonly #records: RecordTable<RunRecord>;

  constructor(home: string) {
    this.db = openPierDatabase(home, MIGRATIONS);
    this.#records = new RecordTable(this.db, "pipeline_runs", "name");
  }

  insert(record: Omit<RunRecord, "id">): RunRecord {
    return this.#records.insert(record.name, record);
  }

  save(record: RunRecord): void {
    this.#records.save(record);
  }

  get(id: number): RunRecord | undefined {
    return this.#records.get(id);
  }

  list(limit = 50): RunRecord[] {
    return this.#records.find({}, "newest", limit);
  }

  open(): RunRecord[] {
    return this.#records.find({ states: OPEN_RUN_STATES }, "oldest", 10_000);
  }

  close(): void {
    this.db.close();
  }
}
