/** Desired state of endpoints and deployments, and their event history, in pier.db. */
import type { DeploymentSpec, EndpointSpec } from "../config/index.js";
import type { ScriptCode } from "../runtime/index.js";
import type { PierDatabase, PierErrorJson } from "../shared/index.js";
import type { KeyBox } from "./credentials.js";
import { type EngineEvent, isEventKind, type RecordedEvent } from "./events.js";

export const ENGINE_MIGRATIONS = [
  {
    name: "engine-001",
    sql: `
      CREATE TABLE endpoints (
        name TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        primary_key TEXT NOT NULL,
        secondary_key TEXT NOT NULL,
        traffic TEXT NOT NULL DEFAULT '{}',
        mirror_traffic TEXT NOT NULL DEFAULT '{}',
        provisioning_state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE deployments (
        endpoint TEXT NOT NULL REFERENCES endpoints(name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        model_name TEXT NOT NULL,
        model_version INTEGER NOT NULL,
        provisioning_state TEXT NOT NULL,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (endpoint, name)
      );
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        endpoint TEXT NOT NULL,
        deployment TEXT,
        instance TEXT,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        data TEXT
      );
      CREATE INDEX events_by_deployment ON events(endpoint, deployment, id);
    `,
  },
  {
    name: "engine-002-scoring-code",
    sql: "ALTER TABLE deployments ADD COLUMN code TEXT;",
  },
  {
    name: "engine-003-source-file",
    sql: "ALTER TABLE deployments ADD COLUMN source_file TEXT;",
  },
];

export type ProvisioningState = "Creating" | "Updating" | "Deleting" | "Succeeded" | "Failed";

export interface EndpointRecord {
  name: string;
  spec: EndpointSpec;
  primaryKey: string;
  secondaryKey: string;
  traffic: Record<string, number>;
  mirrorTraffic: Record<string, number>;
  provisioningState: ProvisioningState;
  createdAt: number;
  updatedAt: number;
}

export interface DeploymentRecord {
  endpoint: string;
  name: string;
  spec: DeploymentSpec;
  modelName: string;
  modelVersion: number;
  provisioningState: ProvisioningState;
  error: PierErrorJson | null;
  /** A scoring script deployment's code folder, snapshotted into the artifact store, and its conda file. */
  code: ScriptCode | null;
  /** The YAML file it was applied from, when it came from one (what `pier doctor --fix` edits). */
  sourceFile: string | null;
  createdAt: number;
  updatedAt: number;
}

interface EndpointRow {
  name: string;
  spec: string;
  primary_key: string;
  secondary_key: string;
  traffic: string;
  mirror_traffic: string;
  provisioning_state: ProvisioningState;
  created_at: number;
  updated_at: number;
}

interface DeploymentRow {
  endpoint: string;
  name: string;
  spec: string;
  model_name: string;
  model_version: number;
  provisioning_state: ProvisioningState;
  error: string | null;
  code: string | null;
  source_file: string | null;
  created_at: number;
  updated_at: number;
}

const toEndpoint = (r: EndpointRow, keys: KeyBox): EndpointRecord => ({
  name: r.name,
  spec: JSON.parse(r.spec),
  primaryKey: keys.open(r.primary_key),
  secondaryKey: keys.open(r.secondary_key),
  traffic: JSON.parse(r.traffic),
  mirrorTraffic: JSON.parse(r.mirror_traffic),
  provisioningState: r.provisioning_state,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toDeployment = (r: DeploymentRow): DeploymentRecord => ({
  endpoint: r.endpoint,
  name: r.name,
  spec: JSON.parse(r.spec),
  modelName: r.model_name,
  modelVersion: r.model_version,
  provisioningState: r.provisioning_state,
  error: r.error ? JSON.parse(r.error) : null,
  code: r.code ? scriptCode(JSON.parse(r.code)) : null,
  sourceFile: r.source_file,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A stored scoring-script snapshot; homes written before conda files had names stored the text alone. */
function scriptCode(stored: ScriptCode | (Omit<ScriptCode, "conda"> & { conda: string | null })): ScriptCode {
  return typeof stored.conda === "string"
    ? { ...stored, conda: { text: stored.conda, file: "conda_file" } }
    : (stored as ScriptCode);
}

/** Where an event happened: an endpoint, and perhaps one of its deployments and instances. */
export interface EventScope {
  endpoint: string;
  deployment?: string | null;
  instance?: string | null;
}

export class EngineStore {
  /**
   * `keys` seals endpoint keys at rest; keys stored plain by an older pier are sealed now. Management
   * writes are checkpointed into pier.db at once, so a lost -wal file loses no endpoint or deployment.
   */
  constructor(
    readonly db: PierDatabase,
    private readonly keys: KeyBox,
  ) {
    const rows = this.db
      .prepare("SELECT name, primary_key, secondary_key FROM endpoints")
      .all() as EndpointRow[];
    const seal = this.db.prepare("UPDATE endpoints SET primary_key = ?, secondary_key = ? WHERE name = ?");
    for (const row of rows)
      if (!keys.isSealed(row.primary_key) || !keys.isSealed(row.secondary_key))
        seal.run(keys.seal(keys.open(row.primary_key)), keys.seal(keys.open(row.secondary_key)), row.name);
    this.#checkpoint();
  }

  #checkpoint(): void {
    this.db.pragma("wal_checkpoint(FULL)");
  }

  endpoint(name: string): EndpointRecord | undefined {
    const row = this.db.prepare("SELECT * FROM endpoints WHERE name = ?").get(name) as
      | EndpointRow
      | undefined;
    return row ? toEndpoint(row, this.keys) : undefined;
  }

  endpoints(): EndpointRecord[] {
    return (this.db.prepare("SELECT * FROM endpoints ORDER BY name").all() as EndpointRow[]).map((r) =>
      toEndpoint(r, this.keys),
    );
  }

  insertEndpoint(e: Omit<EndpointRecord, "createdAt" | "updatedAt">): void {
    const now = Date.now();
    this.db
      .prepare(
        "INSERT INTO endpoints (name, spec, primary_key, secondary_key, traffic, mirror_traffic, provisioning_state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        e.name,
        JSON.stringify(e.spec),
        this.keys.seal(e.primaryKey),
        this.keys.seal(e.secondaryKey),
        JSON.stringify(e.traffic),
        JSON.stringify(e.mirrorTraffic),
        e.provisioningState,
        now,
        now,
      );
    this.#checkpoint();
  }

  updateEndpoint(
    name: string,
    changes: Partial<
      Pick<
        EndpointRecord,
        "spec" | "primaryKey" | "secondaryKey" | "traffic" | "mirrorTraffic" | "provisioningState"
      >
    >,
  ): void {
    const current = this.endpoint(name);
    if (!current) return;
    const next = { ...current, ...changes };
    this.db
      .prepare(
        "UPDATE endpoints SET spec = ?, primary_key = ?, secondary_key = ?, traffic = ?, mirror_traffic = ?, provisioning_state = ?, updated_at = ? WHERE name = ?",
      )
      .run(
        JSON.stringify(next.spec),
        this.keys.seal(next.primaryKey),
        this.keys.seal(next.secondaryKey),
        JSON.stringify(next.traffic),
        JSON.stringify(next.mirrorTraffic),
        next.provisioningState,
        Date.now(),
        name,
      );
    this.#checkpoint();
  }

  deleteEndpoint(name: string): void {
    this.db.prepare("DELETE FROM endpoints WHERE name = ?").run(name);
    this.#checkpoint();
  }

  deployment(endpoint: string, name: string): DeploymentRecord | undefined {
    const row = this.db
      .prepare("SELECT * FROM deployments WHERE endpoint = ? AND name = ?")
      .get(endpoint, name) as DeploymentRow | undefined;
    return row ? toDeployment(row) : undefined;
  }

  deployments(endpoint?: string): DeploymentRecord[] {
    const rows = endpoint
      ? (this.db
          .prepare("SELECT * FROM deployments WHERE endpoint = ? ORDER BY name")
          .all(endpoint) as DeploymentRow[])
      : (this.db.prepare("SELECT * FROM deployments ORDER BY endpoint, name").all() as DeploymentRow[]);
    return rows.map(toDeployment);
  }

  upsertDeployment(d: Omit<DeploymentRecord, "createdAt" | "updatedAt">): void {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO deployments (endpoint, name, spec, model_name, model_version, provisioning_state, error, code, source_file, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(endpoint, name) DO UPDATE SET spec = excluded.spec, model_name = excluded.model_name,
           model_version = excluded.model_version, provisioning_state = excluded.provisioning_state,
           error = excluded.error, code = excluded.code, source_file = excluded.source_file,
           updated_at = excluded.updated_at`,
      )
      .run(
        d.endpoint,
        d.name,
        JSON.stringify(d.spec),
        d.modelName,
        d.modelVersion,
        d.provisioningState,
        d.error ? JSON.stringify(d.error) : null,
        d.code ? JSON.stringify(d.code) : null,
        d.sourceFile,
        now,
        now,
      );
    this.#checkpoint();
  }

  setDeploymentState(
    endpoint: string,
    name: string,
    state: ProvisioningState,
    error: PierErrorJson | null = null,
  ): void {
    this.db
      .prepare(
        "UPDATE deployments SET provisioning_state = ?, error = ?, updated_at = ? WHERE endpoint = ? AND name = ?",
      )
      .run(state, error ? JSON.stringify(error) : null, Date.now(), endpoint, name);
    this.#checkpoint();
  }

  deleteDeployment(endpoint: string, name: string): void {
    this.db.prepare("DELETE FROM deployments WHERE endpoint = ? AND name = ?").run(endpoint, name);
    this.#checkpoint();
  }

  readonly #listeners = new Set<(scope: EventScope, event: EngineEvent, message: string) => void>();

  /** Hears every event as it is recorded (a rollout watches its new deployment's); returns the way to stop. */
  onEvent(listener: (scope: EventScope, event: EngineEvent, message: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The next event `match` accepts, as it is recorded; undefined if `signal` aborts first. Callers
   * check their condition and then wait in the same turn, so no event falls between.
   */
  nextEvent(
    match: (event: EngineEvent, scope: EventScope) => boolean,
    signal?: AbortSignal,
  ): Promise<EngineEvent | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (event: EngineEvent | undefined) => {
        stop();
        signal?.removeEventListener("abort", aborted);
        resolve(event);
      };
      const aborted = () => done(undefined);
      const stop = this.onEvent((scope, event) => {
        if (match(event, scope)) done(event);
      });
      signal?.addEventListener("abort", aborted, { once: true });
    });
  }

  addEvent(scope: EventScope, event: EngineEvent, message: string): void {
    for (const listener of this.#listeners) listener(scope, event, message);
    this.db
      .prepare(
        "INSERT INTO events (at, endpoint, deployment, instance, kind, message, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        Date.now(),
        scope.endpoint,
        scope.deployment ?? null,
        scope.instance ?? null,
        event.kind,
        message,
        JSON.stringify(event.data),
      );
  }

  /** The last `limit` events of an endpoint (or one deployment), oldest first; kinds this pier does not know are left out. */
  events(endpoint: string, deployment?: string, limit = 200): RecordedEvent[] {
    const rows = (
      deployment
        ? this.db
            .prepare("SELECT * FROM events WHERE endpoint = ? AND deployment = ? ORDER BY id DESC LIMIT ?")
            .all(endpoint, deployment, limit)
        : this.db
            .prepare("SELECT * FROM events WHERE endpoint = ? ORDER BY id DESC LIMIT ?")
            .all(endpoint, limit)
    ) as {
      at: number;
      deployment: string | null;
      instance: string | null;
      kind: string;
      message: string;
      data: string | null;
    }[];
    return rows
      .reverse()
      .filter((r) => isEventKind(r.kind))
      .map(
        (r) =>
          ({
            kind: r.kind,
            data: r.data ? JSON.parse(r.data) : {},
            at: new Date(r.at).toISOString(),
            deployment: r.deployment,
            instance: r.instance,
            message: r.message,
          }) as RecordedEvent,
      );
  }
}
