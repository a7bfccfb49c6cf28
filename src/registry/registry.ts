/**
 * The model registry: registered models, numbered versions, aliases and tags in SQLite, files in the
 * content-addressed artifact store. A version is committed in one transaction after all its blobs
 * are stored, so a crash leaves either a whole version or none.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ENV_FILES, type Fidelity, onlyUnresolvable, validateModelDir } from "../env/index.js";
import { checkFolderFiles, listFolderFiles, type MlModel } from "../model/index.js";
import {
  ensurePierHome,
  type Finding,
  failpoint,
  findingLine,
  hasErrors,
  openPierDatabase,
  type PierDatabase,
  PierError,
  userError,
} from "../shared/index.js";
import { type ArtifactEntry, ArtifactStore } from "./artifact-store.js";
import { ENVIRONMENT_MIGRATION, EnvironmentAssets } from "./environments.js";
import { FileThread, type Registered } from "./file-work.js";
import { checkAliasName, checkModelName, type ModelRef, parseModelUri } from "./uri.js";

const REGISTRY_MIGRATIONS = [
  {
    name: "registry-001",
    sql: `
      CREATE TABLE registered_models (
        name TEXT PRIMARY KEY,
        description TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE model_versions (
        name TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        source TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        size_bytes INTEGER NOT NULL,
        mlmodel TEXT NOT NULL,
        findings TEXT NOT NULL,
        forced INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (name, version)
      );
      CREATE TABLE version_artifacts (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (name, version, path),
        FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE
      );
      CREATE INDEX version_artifacts_sha256 ON version_artifacts(sha256);
      CREATE TABLE model_tags (
        name TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (name, key)
      );
      CREATE TABLE version_tags (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (name, version, key),
        FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE
      );
      CREATE TABLE model_aliases (
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (name, alias),
        FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE
      );
    `,
  },
  {
    // Azure's model asset: its type decides what is checked, a file or a folder is the model, and a
    // version may be a label ("v2") as well as a number.
    name: "registry-002",
    sql: `
      ALTER TABLE model_versions ADD COLUMN model_type TEXT NOT NULL DEFAULT 'mlflow_model';
      ALTER TABLE model_versions ADD COLUMN source_kind TEXT NOT NULL DEFAULT 'folder';
      ALTER TABLE model_versions ADD COLUMN label TEXT;
      CREATE UNIQUE INDEX model_versions_label ON model_versions(name, label) WHERE label IS NOT NULL;
    `,
  },
  ENVIRONMENT_MIGRATION,
];

/** Azure ML's model types: what a model asset is, and so what pier checks of it. */
export type ModelType = "mlflow_model" | "custom_model" | "triton_model";

const INPUT_EXAMPLE_LIMIT_BYTES = 64 * 1024;

export interface ModelVersion {
  name: string;
  version: number;
  source: string;
  description: string;
  createdAt: string;
  sizeBytes: number;
  flavors: Record<string, Record<string, unknown>>;
  signature: MlModel["signature"] | null;
  inputExample: unknown;
  envFiles: Record<string, string>;
  artifacts: ArtifactEntry[];
  findings: Finding[];
  /** Registered with --force despite validation errors. */
  forced: boolean;
  tags: Record<string, string>;
  aliases: string[];
  mlmodel: MlModel;
  /** custom_model, mlflow_model or triton_model, as Azure's model asset says. */
  type: ModelType;
  /** The model was one file (it lands in AZUREML_MODEL_DIR itself) or a folder (which keeps its name there). */
  sourceKind: "folder" | "file";
  /** The version as Azure names it, when it is a label rather than a number ("v2"). */
  label: string | null;
}

/** A registered version's use of a blob: which file of which version, registered from where. */
export interface BrokenUse {
  name: string;
  version: number;
  path: string;
  source: string;
}

export interface StoreVerification {
  checkedFiles: number;
  checkedBytes: number;
  damaged: { sha256: string; state: "missing" | "corrupt"; uses: BrokenUse[] }[];
  /** models:/NAME/VERSION of every version with a damaged file. */
  brokenVersions: string[];
}

export interface RegisteredModel {
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  tags: Record<string, string>;
  aliases: Record<string, number>;
  latestVersion: number | null;
  versions: number[];
}

export interface RegisterOptions {
  name: string;
  description?: string;
  tags?: Record<string, string>;
  versionTags?: Record<string, string>;
  /** Register even when validation finds errors. */
  force?: boolean;
  /**
   * What the model is, as Azure's model asset says: mlflow_model is checked as an MLflow folder,
   * custom_model is any file or folder (for scoring scripts), triton_model a Triton repository. By
   * default: mlflow_model for a folder with an MLmodel file, custom_model otherwise.
   */
  type?: ModelType;
  /**
   * The version this must be (a deployment YAML's model.version), as Azure registers it: a number is
   * that version, a label ("v2") is kept beside the next number. The same files as a version of that
   * name reuse it; other files are refused, naming both.
   */
  version?: number | string;
  /** How close to what the cloud would build the environment must be (see env's Fidelity). */
  fidelity?: Fidelity;
}

interface VersionRow {
  name: string;
  version: number;
  source: string;
  model_type: ModelType;
  source_kind: "folder" | "file";
  label: string | null;
  description: string;
  created_at: number;
  size_bytes: number;
  mlmodel: string;
  findings: string;
  forced: number;
}

/** A version as a deployment states it: a number, or a label kept beside the next number. */
type StatedVersion = { number: number; label?: undefined } | { label: string; number?: undefined };

/** Azure's version labels: letters, digits, '.', '-', '_' (a number is a version as it is). */
const VERSION_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

function statedVersion(value: number | string | undefined): StatedVersion | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  if (/^\d+$/.test(text) && Number(text) >= 1) return { number: Number(text) };
  if (!VERSION_LABEL.test(text))
    throw userError(
      "BadArgument",
      `model.version '${text}' is not a version Azure accepts`,
      "Use a number (2) or a label of letters, digits, '.', '-' and '_' (v2, 2024.1).",
    );
  return { label: text };
}

const sameFiles = (a: readonly ArtifactEntry[], b: readonly ArtifactEntry[]) => {
  const key = (list: readonly ArtifactEntry[]) =>
    list
      .map((x) => `${x.path}:${x.sha256}`)
      .sort()
      .join("\n");
  return key(a) === key(b);
};

/**
 * A model's source: a folder, or (not for an MLflow model, which is a folder) a single file, as
 * Azure's model asset takes `path: model.pkl`.
 */
function requireModelSource(
  path: string,
  type: ModelType | undefined,
): { source: string; kind: "folder" | "file" } {
  const source = resolve(path);
  if (!existsSync(source))
    throw userError(
      "ModelSourceNotFound",
      `The model's path ${source} does not exist`,
      "Pass the model's folder (or, for a custom model, its file).",
    );
  if (statSync(source).isDirectory()) return { source, kind: "folder" };
  if (type === "mlflow_model")
    throw userError(
      "ModelSourceNotFound",
      `An MLflow model is a folder holding an MLmodel file; ${source} is a file`,
      "Pass the folder mlflow.<flavor>.save_model wrote, or register the file as type custom_model (with a scoring script to load it).",
    );
  return { source, kind: "file" };
}

function modelNotFound(name: string): PierError {
  return new PierError({
    code: "ModelNotFound",
    summary: `Registered Model with name=${name} not found`,
    details: "MLflow error code: RESOURCE_DOES_NOT_EXIST",
    fix: `List models with \`pier model list\`, or register one: pier model register DIR --name ${name}`,
  });
}

function versionNotFound(name: string, version: number): PierError {
  return new PierError({
    code: "ModelVersionNotFound",
    summary: `Model Version (name=${name}, version=${version}) not found`,
    details: "MLflow error code: RESOURCE_DOES_NOT_EXIST",
    fix: `See the versions with \`pier model show models:/${name}/latest\` or \`pier model list\`.`,
  });
}

export class Registry {
  readonly home: string;
  readonly store: ArtifactStore;
  readonly db: PierDatabase;
  /** Environment assets (`azureml:NAME:VERSION`), beside the models they serve. */
  readonly environments: EnvironmentAssets;

  /** Where registrations and copies out of the store run: a thread of their own (pier up), or here. */
  readonly #files: FileThread | undefined;

  private constructor(home: string, options: { fileThread?: boolean }) {
    this.home = ensurePierHome(home);
    this.db = openPierDatabase(this.home, REGISTRY_MIGRATIONS);
    this.store = new ArtifactStore(this.home);
    this.environments = new EnvironmentAssets(this.db);
    this.#files = options.fileThread ? new FileThread() : undefined;
  }

  /**
   * `fileThread`: register and copy files on a thread of their own, for a process that answers
   * requests meanwhile (pier up).
   */
  static open(home: string, options: { fileThread?: boolean } = {}): Registry {
    return new Registry(home, options);
  }

  close(): void {
    void this.#files?.close();
    this.db.close();
  }

  /** Writes a version's files from the store into `dir`, each hash checked (off this thread when it has a file thread). */
  async materialize(entries: readonly ArtifactEntry[], dir: string): Promise<void> {
    if (this.#files) await this.#files.materialize(this.store.root, entries, dir);
    else this.store.materialize(entries, dir);
  }

  /** Validates, stores and records `dir` as the next version of `options.name` (or as options.version). */
  async register(dir: string, options: RegisterOptions): Promise<Registered> {
    if (this.#files) return this.#files.register(this.home, dir, options);
    checkModelName(options.name);
    const { source, kind } = requireModelSource(dir, options.type);
    const type: ModelType =
      options.type ??
      (kind === "folder" && existsSync(join(source, "MLmodel")) ? "mlflow_model" : "custom_model");
    const files = kind === "file" ? [basename(source)] : listFolderFiles(source);
    const base = kind === "file" ? dirname(source) : source;
    const validation =
      type === "mlflow_model"
        ? await validateModelDir(source, options.fidelity)
        : { dir: source, findings: checkFolderFiles(base, files, "model"), mlmodel: undefined };
    if (hasErrors(validation.findings) && !options.force) {
      const errors = validation.findings.filter((f) => f.severity === "error");
      // Pins that cannot resolve together, and nothing else: what Azure's image build would fail on.
      if (onlyUnresolvable(errors))
        throw new PierError({
          code: "EnvironmentUnresolvable",
          summary: `${source} declares an environment that cannot be resolved: ${errors[0]!.message}`,
          details: validation.findings.filter((f) => f.severity !== "info").map(findingLine),
          fix: `${errors[0]!.fix} (Or run it here anyway: --fidelity local, or PIER_FIDELITY=local.)`,
          data: { findings: errors, warnings: validation.findings.filter((f) => f.severity !== "error") },
        });
      throw new PierError({
        code: "ModelValidationFailed",
        summary: `${source} has ${validation.findings.filter((f) => f.severity === "error").length} error(s) that would fail a deployment`,
        details: validation.findings.filter((f) => f.severity !== "info").map(findingLine),
        fix: "Fix each error as its fix says and register again (or pass --force to register anyway).",
        data: { findings: validation.findings },
      });
    }
    const mlmodel = validation.mlmodel ?? ({ flavors: {} } as MlModel);
    const repaired: string[] = [];
    const artifacts: ArtifactEntry[] = files.map((path) => {
      const { sha256, size, before } = this.store.put(join(base, path));
      // A blob missing while versions name it was lost, not new.
      const lost =
        before === "missing" &&
        this.db.prepare("SELECT 1 FROM version_artifacts WHERE sha256 = ?").get(sha256);
      if (before === "corrupt" || lost) repaired.push(path);
      return { path, sha256, size };
    });
    failpoint("register:after-blobs");
    const stated = statedVersion(options.version);
    if (stated) {
      const existing = this.#stated(options.name, stated);
      if (existing) {
        if (sameFiles(existing.artifacts, artifacts)) return { ...existing, repaired, reused: true };
        throw userError(
          "ModelVersionConflict",
          `${options.name} version ${stated.label ?? stated.number} is registered already with other files: ${existing.source} (${existing.artifacts.length} file(s), registered ${existing.createdAt}); ${source} differs from it`,
          `Give these files another version (model.version: ${this.#nextVersion(options.name)}), or deploy the registered one as it is: azureml:${options.name}:${stated.label ?? stated.number}.`,
        );
      }
    }

    const now = Date.now();
    const { version, reused } = this.db
      .transaction((): { version: number; reused: boolean } => {
        // No version stated and these exact files registered already: that version, not a copy of it
        // (checked under the write lock, so registrations of the same files at once agree).
        const identical = stated ? undefined : this.#withFiles(options.name, artifacts, type);
        if (identical) return { version: identical.version, reused: true };
        // Another process may have swept a blob between put() and this lock: store it again.
        for (const artifact of artifacts)
          if (!this.store.has(artifact.sha256)) this.store.put(join(base, artifact.path));
        this.db
          .prepare(
            "INSERT INTO registered_models (name, description, created_at, updated_at) VALUES (?, '', ?, ?) ON CONFLICT(name) DO UPDATE SET updated_at = excluded.updated_at",
          )
          .run(options.name, now, now);
        // The stated number is the version (Azure's versions are labels, not a counter); else the next one.
        const next = stated?.number ?? this.#nextVersion(options.name);
        this.db
          .prepare(
            "INSERT INTO model_versions (name, version, source, description, created_at, size_bytes, mlmodel, findings, forced, model_type, source_kind, label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          )
          .run(
            options.name,
            next,
            source,
            options.description ?? "",
            now,
            artifacts.reduce((sum, a) => sum + a.size, 0),
            JSON.stringify(mlmodel),
            JSON.stringify(validation.findings),
            options.force && hasErrors(validation.findings) ? 1 : 0,
            type,
            kind,
            stated?.label ?? null,
          );
        const insertArtifact = this.db.prepare(
          "INSERT INTO version_artifacts (name, version, path, sha256, size) VALUES (?, ?, ?, ?, ?)",
        );
        for (const a of artifacts) insertArtifact.run(options.name, next, a.path, a.sha256, a.size);
        for (const [key, value] of Object.entries(options.tags ?? {}))
          this.setModelTagRow(options.name, key, value);
        const insertVersionTag = this.db.prepare(
          "INSERT INTO version_tags (name, version, key, value) VALUES (?, ?, ?, ?)",
        );
        for (const [key, value] of Object.entries(options.versionTags ?? {}))
          insertVersionTag.run(options.name, next, key, value);
        failpoint("register:before-commit");
        return { version: next, reused: false };
      })
      .immediate();
    return { ...this.getVersion(options.name, version), repaired, reused };
  }

  /**
   * Re-hashes every blob the registry references (or those of model `name`), and names, for each one
   * missing or damaged, the versions it breaks and the folders they were registered from.
   */
  verify(name?: string): StoreVerification {
    if (name !== undefined) this.requireModel(name);
    const rows = this.db
      .prepare(
        `SELECT a.sha256, a.size, a.name, a.version, a.path, v.source FROM version_artifacts a JOIN model_versions v ON v.name = a.name AND v.version = a.version ${name === undefined ? "" : "WHERE a.name = ?"} ORDER BY a.name, a.version, a.path`,
      )
      .all(...(name === undefined ? [] : [name])) as {
      sha256: string;
      size: number;
      name: string;
      version: number;
      path: string;
      source: string;
    }[];
    const blobs = new Map<string, { size: number; uses: BrokenUse[] }>();
    for (const r of rows) {
      const blob = blobs.get(r.sha256) ?? { size: r.size, uses: [] };
      blob.uses.push({ name: r.name, version: r.version, path: r.path, source: r.source });
      blobs.set(r.sha256, blob);
    }
    const damaged: StoreVerification["damaged"] = [];
    let bytes = 0;
    for (const [sha256, blob] of blobs) {
      const state = this.store.check(sha256);
      bytes += blob.size;
      if (state !== "ok") damaged.push({ sha256, state, uses: blob.uses });
    }
    const versions = new Set(damaged.flatMap((d) => d.uses.map((u) => `models:/${u.name}/${u.version}`)));
    return { checkedFiles: blobs.size, checkedBytes: bytes, damaged, brokenVersions: [...versions] };
  }

  /** The version of `name` a stated version names (by number or by label), when it is registered. */
  #stated(name: string, stated: StatedVersion): ModelVersion | undefined {
    const row = (
      stated.label !== undefined
        ? this.db
            .prepare("SELECT version FROM model_versions WHERE name = ? AND label = ?")
            .get(name, stated.label)
        : this.db
            .prepare("SELECT version FROM model_versions WHERE name = ? AND version = ?")
            .get(name, stated.number)
    ) as { version: number } | undefined;
    return row ? this.getVersion(name, row.version) : undefined;
  }

  /** The newest version of `name` of this type that holds exactly these files, if any. */
  #withFiles(name: string, artifacts: ArtifactEntry[], type: ModelType): ModelVersion | undefined {
    const rows = this.db
      .prepare("SELECT version FROM model_versions WHERE name = ? AND model_type = ? ORDER BY version DESC")
      .all(name, type) as { version: number }[];
    const count = (version: number) =>
      (
        this.db
          .prepare("SELECT COUNT(*) AS n FROM version_artifacts WHERE name = ? AND version = ?")
          .get(name, version) as { n: number }
      ).n;
    for (const { version } of rows) {
      if (count(version) !== artifacts.length) continue;
      const existing = this.getVersion(name, version);
      if (sameFiles(existing.artifacts, artifacts)) return existing;
    }
    return undefined;
  }

  #nextVersion(name: string): number {
    return (
      this.db
        .prepare("SELECT COALESCE(MAX(version), 0) + 1 AS v FROM model_versions WHERE name = ?")
        .get(name) as { v: number }
    ).v;
  }

  private setModelTagRow(name: string, key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO model_tags (name, key, value) VALUES (?, ?, ?) ON CONFLICT(name, key) DO UPDATE SET value = excluded.value",
      )
      .run(name, key, value);
  }

  private requireModel(name: string): void {
    if (!this.db.prepare("SELECT 1 FROM registered_models WHERE name = ?").get(name))
      throw modelNotFound(name);
  }

  getModel(name: string): RegisteredModel {
    const row = this.db.prepare("SELECT * FROM registered_models WHERE name = ?").get(name) as
      | { name: string; description: string; created_at: number; updated_at: number }
      | undefined;
    if (!row) throw modelNotFound(name);
    const versions = (
      this.db.prepare("SELECT version FROM model_versions WHERE name = ? ORDER BY version").all(name) as {
        version: number;
      }[]
    ).map((r) => r.version);
    const tags = Object.fromEntries(
      (
        this.db.prepare("SELECT key, value FROM model_tags WHERE name = ? ORDER BY key").all(name) as {
          key: string;
          value: string;
        }[]
      ).map((t) => [t.key, t.value]),
    );
    const aliases = Object.fromEntries(
      (
        this.db
          .prepare("SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias")
          .all(name) as { alias: string; version: number }[]
      ).map((a) => [a.alias, a.version]),
    );
    return {
      name: row.name,
      description: row.description,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
      tags,
      aliases,
      latestVersion: versions.at(-1) ?? null,
      versions,
    };
  }

  listModels(): RegisteredModel[] {
    return (
      this.db.prepare("SELECT name FROM registered_models ORDER BY name").all() as { name: string }[]
    ).map((r) => this.getModel(r.name));
  }

  getVersion(name: string, version: number): ModelVersion {
    const row = this.db
      .prepare("SELECT * FROM model_versions WHERE name = ? AND version = ?")
      .get(name, version) as VersionRow | undefined;
    if (!row) {
      this.requireModel(name);
      throw versionNotFound(name, version);
    }
    const artifacts = this.db
      .prepare(
        "SELECT path, sha256, size FROM version_artifacts WHERE name = ? AND version = ? ORDER BY path",
      )
      .all(name, version) as ArtifactEntry[];
    const mlmodel = JSON.parse(row.mlmodel) as MlModel;
    const blobText = (path: string, limit: number): string | undefined => {
      const entry = artifacts.find((a) => a.path === path);
      return entry && entry.size <= limit
        ? readFileSync(this.store.blobPath(entry.sha256), "utf8")
        : undefined;
    };
    const examplePath = mlmodel.saved_input_example_info?.artifact_path;
    let inputExample: unknown = null;
    const exampleText =
      typeof examplePath === "string" ? blobText(examplePath, INPUT_EXAMPLE_LIMIT_BYTES) : undefined;
    if (exampleText !== undefined) {
      try {
        inputExample = JSON.parse(exampleText);
      } catch {
        inputExample = null;
      }
    }
    const envFiles: Record<string, string> = {};
    for (const file of ENV_FILES) {
      const text = blobText(file, INPUT_EXAMPLE_LIMIT_BYTES);
      if (text !== undefined) envFiles[file] = text;
    }
    return {
      name: row.name,
      version: row.version,
      source: row.source,
      description: row.description,
      createdAt: new Date(row.created_at).toISOString(),
      sizeBytes: row.size_bytes,
      flavors: mlmodel.flavors ?? {},
      signature: mlmodel.signature ?? null,
      inputExample,
      envFiles,
      artifacts,
      findings: JSON.parse(row.findings) as Finding[],
      forced: row.forced === 1,
      tags: Object.fromEntries(
        (
          this.db
            .prepare("SELECT key, value FROM version_tags WHERE name = ? AND version = ? ORDER BY key")
            .all(name, version) as { key: string; value: string }[]
        ).map((t) => [t.key, t.value]),
      ),
      aliases: (
        this.db
          .prepare("SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias")
          .all(name, version) as { alias: string }[]
      ).map((a) => a.alias),
      mlmodel,
      type: row.model_type,
      sourceKind: row.source_kind,
      label: row.label,
    };
  }

  /** Resolves a models:/ (or azureml:) URI to a version. Paths are not registry entries: use parseModelUri first. */
  resolve(ref: Extract<ModelRef, { kind: "registry" }>): ModelVersion {
    const { name, selector } = ref;
    if (selector.type === "version") return this.getVersion(name, selector.version);
    if (selector.type === "label") {
      const found = this.#stated(name, { label: selector.label });
      if (found) return found;
      this.requireModel(name);
      throw new PierError({
        code: "ModelVersionNotFound",
        summary: `Model ${name} has no version labelled '${selector.label}'`,
        fix: `See its versions: pier model show models:/${name}/latest, or pier model list.`,
      });
    }
    if (selector.type === "latest") {
      this.requireModel(name);
      const latest = (
        this.db.prepare("SELECT MAX(version) AS v FROM model_versions WHERE name = ?").get(name) as {
          v: number | null;
        }
      ).v;
      if (latest === null) {
        throw new PierError({
          code: "ModelHasNoVersions",
          summary: `No versions of model with name '${name}' found`,
          details: "MLflow error code: RESOURCE_DOES_NOT_EXIST",
          fix: `Register one: pier model register DIR --name ${name}`,
        });
      }
      return this.getVersion(name, latest);
    }
    this.requireModel(name);
    const alias = this.db
      .prepare("SELECT version FROM model_aliases WHERE name = ? AND alias = ?")
      .get(name, selector.alias) as { version: number } | undefined;
    if (!alias) {
      throw new PierError({
        code: "AliasNotFound",
        summary: `Registered model alias ${selector.alias} not found.`,
        details: "MLflow error code: INVALID_PARAMETER_VALUE",
        fix: `Set it: pier model alias set ${name} ${selector.alias} <VERSION> (current aliases: \`pier model show models:/${name}/latest\`).`,
      });
    }
    return this.getVersion(name, alias.version);
  }

  /** Resolves any model URI string to a registered version. */
  resolveUri(uri: string): ModelVersion {
    const ref = parseModelUri(uri);
    if (ref.kind === "path") {
      throw userError(
        "InvalidModelUri",
        `'${uri}' is a path, not a registered model`,
        "Use models:/NAME/VERSION, models:/NAME/latest or models:/NAME@ALIAS.",
      );
    }
    return this.resolve(ref);
  }

  /** Writes a version's files into `outDir` (which must be empty or absent), verifying every hash. */
  download(version: ModelVersion, outDir: string): string {
    const target = resolve(outDir);
    if (existsSync(target) && readdirSync(target).length > 0) {
      throw userError(
        "OutputExists",
        `${target} already exists and is not empty`,
        "Choose another --out folder, or empty this one.",
      );
    }
    mkdirSync(target, { recursive: true });
    this.store.materialize(version.artifacts, target);
    return target;
  }

  /** Deletes one version (and its aliases), or the whole model when `version` is undefined. */
  delete(name: string, version?: number): { deleted: string; blobsRemoved: number } {
    return this.db
      .transaction(() => {
        if (version === undefined) {
          this.requireModel(name);
          this.db.prepare("DELETE FROM registered_models WHERE name = ?").run(name);
        } else {
          this.getVersion(name, version);
          this.db.prepare("DELETE FROM model_versions WHERE name = ? AND version = ?").run(name, version);
        }
        const referenced = new Set(
          (
            this.db.prepare("SELECT DISTINCT sha256 FROM version_artifacts").all() as { sha256: string }[]
          ).map((r) => r.sha256),
        );
        return {
          deleted: version === undefined ? `models:/${name}` : `models:/${name}/${version}`,
          blobsRemoved: this.store.sweep(referenced),
        };
      })
      .immediate();
  }

  setAlias(name: string, alias: string, version: number): void {
    checkAliasName(alias);
    this.getVersion(name, version);
    this.db
      .prepare(
        "INSERT INTO model_aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version",
      )
      .run(name, alias, version);
  }

  deleteAlias(name: string, alias: string): void {
    this.requireModel(name);
    const result = this.db.prepare("DELETE FROM model_aliases WHERE name = ? AND alias = ?").run(name, alias);
    if (result.changes === 0) {
      throw new PierError({
        code: "AliasNotFound",
        summary: `Registered model alias ${alias} not found.`,
        details: "MLflow error code: INVALID_PARAMETER_VALUE",
        fix: `See the aliases with \`pier model show models:/${name}/latest\`.`,
      });
    }
  }

  setTag(name: string, key: string, value: string, version?: number): void {
    if (key === "") throw userError("InvalidTag", "A tag key cannot be empty", "Pass --tag key=value.");
    if (version === undefined) {
      this.requireModel(name);
      this.setModelTagRow(name, key, value);
    } else {
      this.getVersion(name, version);
      this.db
        .prepare(
          "INSERT INTO version_tags (name, version, key, value) VALUES (?, ?, ?, ?) ON CONFLICT(name, version, key) DO UPDATE SET value = excluded.value",
        )
        .run(name, version, key, value);
    }
  }

  deleteTag(name: string, key: string, version?: number): void {
    let result: { changes: number };
    if (version === undefined) {
      this.requireModel(name);
      result = this.db.prepare("DELETE FROM model_tags WHERE name = ? AND key = ?").run(name, key);
    } else {
      this.getVersion(name, version);
      result = this.db
        .prepare("DELETE FROM version_tags WHERE name = ? AND version = ? AND key = ?")
        .run(name, version, key);
    }
    if (result.changes === 0) {
      throw userError(
        "TagNotFound",
        `No tag '${key}' on ${version === undefined ? `model ${name}` : `models:/${name}/${version}`}`,
        "List tags with `pier model show`.",
      );
    }
  }
}
