/**
 * Environment assets, as Azure registers them (`az ml environment create`): a name and a version, an
 * image, a conda file (kept with the files its pip list includes, so a deployment that names the
 * environment later builds exactly it), or a Docker build context. A deployment's
 * `environment: azureml:NAME:VERSION` (or `azureml:NAME@latest`) resolves here. The stated version is
 * the version; registering the same definition again reuses it, a different one under the same version
 * is refused naming both. Curated environments (Azure's own) are not here: pier cannot have their images.
 */
import type { CondaFile } from "../env/index.js";
import { type PierDatabase, userError } from "../shared/index.js";

export const ENVIRONMENT_MIGRATION = {
  name: "registry-003",
  sql: `
    CREATE TABLE environment_versions (
      name TEXT NOT NULL,
      version TEXT NOT NULL,
      seq INTEGER NOT NULL,
      description TEXT NOT NULL DEFAULT '',
      image TEXT,
      conda_json TEXT,
      build_json TEXT,
      tags_json TEXT NOT NULL DEFAULT '{}',
      source TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (name, version)
    );
  `,
};

export interface EnvironmentDefinition {
  name: string;
  /** As stated; absent: the next number after the highest numeric version. */
  version?: string | number | undefined;
  description?: string | undefined;
  image?: string | undefined;
  conda?: CondaFile | undefined;
  build?: { path: string; dockerfile_path?: string | undefined } | undefined;
  tags?: Record<string, string> | undefined;
  /** Where it came from (the YAML file, or "command line"), for messages. */
  source: string;
}

export interface EnvironmentAsset {
  name: string;
  version: string;
  description: string;
  image: string | null;
  conda: CondaFile | null;
  build: { path: string; dockerfile_path?: string | undefined } | null;
  tags: Record<string, string>;
  source: string;
  createdAt: string;
}

interface Row {
  name: string;
  version: string;
  description: string;
  image: string | null;
  conda_json: string | null;
  build_json: string | null;
  tags_json: string;
  source: string;
  created_at: string;
}

const asset = (row: Row): EnvironmentAsset => ({
  name: row.name,
  version: row.version,
  description: row.description,
  image: row.image,
  conda: row.conda_json ? (JSON.parse(row.conda_json) as CondaFile) : null,
  build: row.build_json ? (JSON.parse(row.build_json) as EnvironmentAsset["build"]) : null,
  tags: JSON.parse(row.tags_json) as Record<string, string>,
  source: row.source,
  createdAt: row.created_at,
});

/** What makes two definitions the same environment (the files, not where they were read from). */
const sameDefinition = (a: EnvironmentAsset, b: EnvironmentDefinition) =>
  a.image === (b.image ?? null) &&
  JSON.stringify(a.conda) === JSON.stringify(b.conda ?? null) &&
  JSON.stringify(a.build) === JSON.stringify(b.build ?? null);

/** A reference a deployment YAML gives: `azureml:NAME:VERSION`, `azureml:NAME@latest`, or NAME:VERSION. */
export interface EnvironmentRef {
  name: string;
  version: string | "latest";
}

/** The name and version a string names, or undefined for what is not an environment asset reference. */
export function parseEnvironmentRef(text: string): EnvironmentRef | undefined {
  if (text.startsWith("azureml://")) return undefined; // a registry's (curated) environment
  const bare = text.replace(/^azureml:/, "");
  const latest = /^([A-Za-z0-9][\w.-]*)@latest$/.exec(bare);
  if (latest) return { name: latest[1]!, version: "latest" };
  const versioned = /^([A-Za-z0-9][\w.-]*):([\w.-]+)$/.exec(bare);
  return versioned ? { name: versioned[1]!, version: versioned[2]! } : undefined;
}

/** Azure's curated environments (AzureML-…, or azureml://registries/azureml/…): images pier cannot have. */
export const isCuratedEnvironment = (text: string) =>
  /^azureml:\/\/registries\/azureml\//i.test(text) || /^(azureml:)?AzureML-/i.test(text);

export class EnvironmentAssets {
  constructor(private readonly db: PierDatabase) {}

  /** Registers `definition` at its stated version (or the next number); the same definition reuses it. */
  create(definition: EnvironmentDefinition): EnvironmentAsset & { reused: boolean } {
    if (!/^[A-Za-z0-9][\w.-]{0,254}$/.test(definition.name))
      throw userError(
        "BadArgument",
        `'${definition.name}' is not an environment name Azure accepts`,
        "Use letters, digits, '-', '_' and '.', starting with a letter or digit.",
      );
    if (!definition.image && !definition.build)
      throw userError(
        "BadArgument",
        `${definition.source}: environment ${definition.name} has neither image nor build`,
        "Give image: (e.g. mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04) with a conda_file, or build: {path: ./docker-context}.",
      );
    return this.db.transaction(() => {
      const stated = definition.version === undefined ? undefined : String(definition.version);
      if (stated !== undefined && !/^[\w.-]{1,64}$/.test(stated))
        throw userError(
          "BadArgument",
          `version '${stated}' of environment ${definition.name} is not a version Azure accepts`,
          "Use a number or a label of letters, digits, '-', '_' and '.', e.g. 1 or v2.",
        );
      const version = stated ?? String(this.#highestNumber(definition.name) + 1);
      const existing = this.get(definition.name, version);
      if (existing) {
        if (sameDefinition(existing, definition)) return { ...existing, reused: true };
        throw userError(
          "EnvironmentVersionConflict",
          `environment ${definition.name}:${version} is already registered from ${existing.source} with a different definition than ${definition.source}`,
          `Give the new definition another version (--version ${this.#highestNumber(definition.name) + 1}), or leave the version out to take the next one.`,
        );
      }
      const seq =
        (
          this.db
            .prepare("SELECT MAX(seq) AS seq FROM environment_versions WHERE name = ?")
            .get(definition.name) as {
            seq: number | null;
          }
        ).seq ?? 0;
      this.db
        .prepare(
          `INSERT INTO environment_versions
             (name, version, seq, description, image, conda_json, build_json, tags_json, source, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          definition.name,
          version,
          seq + 1,
          definition.description ?? "",
          definition.image ?? null,
          definition.conda ? JSON.stringify(definition.conda) : null,
          definition.build ? JSON.stringify(definition.build) : null,
          JSON.stringify(definition.tags ?? {}),
          definition.source,
          new Date().toISOString(),
        );
      return { ...this.get(definition.name, version)!, reused: false };
    })();
  }

  #highestNumber(name: string): number {
    const versions = this.db.prepare("SELECT version FROM environment_versions WHERE name = ?").all(name) as {
      version: string;
    }[];
    return Math.max(0, ...versions.map((v) => (/^\d+$/.test(v.version) ? Number(v.version) : 0)));
  }

  /** One version, or "latest" (the one registered last). */
  get(name: string, version: string | "latest"): EnvironmentAsset | undefined {
    const row = (
      version === "latest"
        ? this.db
            .prepare("SELECT * FROM environment_versions WHERE name = ? ORDER BY seq DESC LIMIT 1")
            .get(name)
        : this.db
            .prepare("SELECT * FROM environment_versions WHERE name = ? AND version = ?")
            .get(name, version)
    ) as Row | undefined;
    return row ? asset(row) : undefined;
  }

  /** The asset a reference names; EnvironmentNotFound, with what is registered, otherwise. */
  resolve(ref: EnvironmentRef, text: string): EnvironmentAsset {
    const found = this.get(ref.name, ref.version);
    if (found) return found;
    const versions = this.list(ref.name).map((e) => e.version);
    throw userError(
      "EnvironmentNotFound",
      `environment '${text}' is not registered${versions.length ? ` (${ref.name} has version ${versions.join(", ")})` : ""}`,
      versions.length
        ? `Name one of them, e.g. azureml:${ref.name}:${versions.at(-1)}, or azureml:${ref.name}@latest.`
        : `Register it first, as in Azure: pier az ml environment create --file environment.yml (or --name ${ref.name} --image … --conda-file conda.yml).`,
    );
  }

  /** Every version (of one name, or of all), oldest first. */
  list(name?: string): EnvironmentAsset[] {
    const rows = (
      name === undefined
        ? this.db.prepare("SELECT * FROM environment_versions ORDER BY name, seq").all()
        : this.db.prepare("SELECT * FROM environment_versions WHERE name = ? ORDER BY seq").all(name)
    ) as Row[];
    return rows.map(asset);
  }
}
