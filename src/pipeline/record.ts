/** A pipeline run's decision record, kept in pier.db (table pipeline_runs) as it goes. */
import type { PipelineSpec } from "../config/index.js";
import { openPierDatabase, type PierDatabase, type PierErrorJson } from "../shared/index.js";
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
  state: "running" | "done" | "cached" | "skipped" | "waiting" | "failed";
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
    sql: `
      CREATE TABLE pipeline_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        record TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
];

export class RunStore {
  readonly db: PierDatabase;

  constructor(home: string) {
    this.db = openPierDatabase(home, MIGRATIONS);
  }

  insert(record: Omit<RunRecord, "id">): RunRecord {
    const now = Date.now();
    const id = Number(
      this.db
        .prepare(
          "INSERT INTO pipeline_runs (name, state, record, started_at, updated_at) VALUES (?, ?, '{}', ?, ?)",
        )
        .run(record.name, record.state, now, now).lastInsertRowid,
    );
    const full = { ...record, id };
    this.save(full);
    return full;
  }

  save(record: RunRecord): void {
    this.db
      .prepare("UPDATE pipeline_runs SET state = ?, record = ?, updated_at = ? WHERE id = ?")
      .run(record.state, JSON.stringify(record), Date.now(), record.id);
  }

  get(id: number): RunRecord | undefined {
    const row = this.db.prepare("SELECT record FROM pipeline_runs WHERE id = ?").get(id) as
      | { record: string }
      | undefined;
    return row ? (JSON.parse(row.record) as RunRecord) : undefined;
  }

  list(limit = 50): RunRecord[] {
    return (
      this.db.prepare("SELECT record FROM pipeline_runs ORDER BY id DESC LIMIT ?").all(limit) as {
        record: string;
      }[]
    ).map((r) => JSON.parse(r.record) as RunRecord);
  }

  open(): RunRecord[] {
    return (
      this.db
        .prepare(
          `SELECT record FROM pipeline_runs WHERE state IN (${OPEN_RUN_STATES.map(() => "?").join(", ")})`,
        )
        .all(...OPEN_RUN_STATES) as { record: string }[]
    ).map((r) => JSON.parse(r.record) as RunRecord);
  }

  close(): void {
    this.db.close();
  }
}
